import { describe, expect, it } from 'vitest';
import { TakeoverLimit } from './sessions.js';

const figures = {
  takeovers: 3,
  windowMs: 60_000,
  holdDownMs: 10_000,
  maxHoldDownMs: 25_000,
  quietMs: 120_000,
  maxSerials: 2,
};

describe('TakeoverLimit', () => {
  it('allows takeovers up to the limit, then holds further ones down once', () => {
    const limit = new TakeoverLimit(figures);
    expect(limit.takeover('SAG-1', 0)).toEqual({ allowed: true });
    expect(limit.takeover('SAG-1', 1)).toEqual({ allowed: true });
    expect(limit.takeover('SAG-1', 2)).toEqual({
      allowed: true,
      holdDown: { takeovers: 3, windowMs: 60_000, holdDownMs: 10_000, untilMs: 10_002 },
    });
    expect(limit.takeover('SAG-1', 3)).toEqual({ allowed: false, untilMs: 10_002, refused: 1 });
    expect(limit.takeover('SAG-1', 9_000)).toEqual({ allowed: false, untilMs: 10_002, refused: 2 });
    expect(limit.takeover('SAG-2', 9_000)).toEqual({ allowed: true });
    expect(limit.takeover('SAG-1', 10_002)).toEqual({ allowed: true });
  });

  it('only counts takeovers within the window', () => {
    const limit = new TakeoverLimit(figures);
    for (const at of [0, 30_000, 60_000, 90_000])
      expect(limit.takeover('SAG-1', at)).toEqual({ allowed: true });
  });

  it('doubles the hold-down each time the flapping goes on, up to its cap, and forgets a quiet serial', () => {
    const limit = new TakeoverLimit(figures);
    const heldFor = (from: number) => {
      for (let i = 0; i < 2; i++) limit.takeover('SAG-1', from + i);
      const verdict = limit.takeover('SAG-1', from + 2);
      return verdict.allowed ? verdict.holdDown?.holdDownMs : undefined;
    };
    expect(heldFor(0)).toBe(10_000);
    expect(heldFor(20_000)).toBe(20_000);
    expect(heldFor(50_000)).toBe(25_000);
    // Quiet for longer than quietMs after the last hold-down ended: back to the first figure.
    expect(heldFor(50_000 + 25_002 + 120_001)).toBe(10_000);
  });

  it('tracks a bounded number of serial numbers', () => {
    const limit = new TakeoverLimit(figures);
    for (const serial of ['SAG-1', 'SAG-2', 'SAG-3']) limit.takeover(serial, 0);
    expect(limit.size).toBe(2);
  });
});
