import { describe, expect, it } from 'vitest';
import { seededRandom as seeded } from '../testing/seededRandom.js';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the ceiling each attempt up to the cap', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    const waits = Array.from({ length: 9 }, () => backoff.next());
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('waits zero when the random source says so (full jitter reaches the bottom)', () => {
    const backoff = new Backoff({ random: () => 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([0, 0, 0]);
  });

  it('keeps every wait within [0, min(cap, base·2^n)], even after many attempts', () => {
    const random = seeded(42);
    const backoff = new Backoff({ baseMs: 100, capMs: 5000, random });
    for (let n = 0; n < 2000; n++) {
      const ceiling = Math.min(5000, 100 * 2 ** n);
      const wait = backoff.next();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(ceiling);
      expect(Number.isInteger(wait)).toBe(true);
    }
  });

  it('spreads capped waits uniformly over [0, cap]', () => {
    const backoff = new Backoff({ baseMs: 1000, capMs: 1000, random: seeded(7) });
    const buckets = new Array(10).fill(0);
    const samples = 20_000;
    let sum = 0;
    for (let i = 0; i < samples; i++) {
      const wait = backoff.next();
      sum += wait;
      buckets[Math.min(9, Math.floor(wait / 100))]++;
    }
    expect(sum / samples).toBeGreaterThan(480);
    expect(sum / samples).toBeLessThan(520);
    for (const count of buckets) {
      expect(count).toBeGreaterThan(samples / 10 - 300);
      expect(count).toBeLessThan(samples / 10 + 300);
    }
  });

  it('starts again from the base after a reset', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 6; i++) backoff.next();
    expect(backoff.ceiling()).toBe(30_000);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(500);
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff({ baseMs: 1000, capMs: 10 })).toThrow(/baseMs <= capMs/);
  });

  it('keeps waits after refused connections under the lower refusal cap', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    const waits = Array.from({ length: 9 }, () => backoff.next('refused'));
    expect(waits).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
  });

  it('climbs to the full cap as soon as an attempt fails another way', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 6; i++) backoff.next('refused');
    // Six attempts in: a timeout or reset now waits up to min(30 s, 500·2^6).
    expect(backoff.next('failed')).toBe(30_000);
    expect(backoff.next('refused')).toBe(5000);
  });

  it('still spreads refused retries uniformly over [0, refusal cap]', () => {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000, refusedCapMs: 2000, random: seeded(11) });
    for (let i = 0; i < 3; i++) backoff.next('refused');
    const buckets = new Array(4).fill(0);
    const samples = 20_000;
    for (let i = 0; i < samples; i++) {
      const wait = backoff.next('refused');
      expect(wait).toBeLessThanOrEqual(2000);
      buckets[Math.min(3, Math.floor(wait / 500))]++;
    }
    for (const count of buckets) {
      expect(count).toBeGreaterThan(samples / 4 - 400);
      expect(count).toBeLessThan(samples / 4 + 400);
    }
  });

  it('follows a custom base and cap with its default refusal cap', () => {
    expect(new Backoff({ baseMs: 20, capMs: 200 }).refusedCapMs).toBe(200);
    expect(new Backoff({ baseMs: 10_000, capMs: 60_000 }).refusedCapMs).toBe(10_000);
    expect(new Backoff().refusedCapMs).toBe(5000);
  });

  it('refuses a refusal cap outside [base, cap]', () => {
    expect(() => new Backoff({ baseMs: 500, capMs: 30_000, refusedCapMs: 100 })).toThrow(/refusedCapMs/);
    expect(() => new Backoff({ baseMs: 500, capMs: 30_000, refusedCapMs: 60_000 })).toThrow(/refusedCapMs/);
  });
});
