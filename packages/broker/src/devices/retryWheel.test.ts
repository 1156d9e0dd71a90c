import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryWheel } from './retryWheel.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('RetryWheel', () => {
  it('fires each id once at or after its due time, rounded up to a tick, on one timer', () => {
    const fired: string[][] = [];
    const wheel = new RetryWheel(
      (ids) => fired.push(ids),
      50,
      () => Date.now(),
    );
    wheel.schedule('a', 1010);
    wheel.schedule('b', 1040);
    wheel.schedule('c', 2000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1049);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['a', 'b']]);
    vi.advanceTimersByTime(950);
    expect(fired).toEqual([['a', 'b'], ['c']]);
    expect(wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets removed ids, and a new schedule replaces the old one', () => {
    const fired: string[] = [];
    const wheel = new RetryWheel(
      (ids) => fired.push(...ids),
      50,
      () => Date.now(),
    );
    wheel.schedule('a', 500);
    wheel.schedule('b', 500);
    wheel.remove('a');
    wheel.schedule('b', 5000);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    wheel.schedule('c', 100);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['c']);
    vi.advanceTimersByTime(4000);
    expect(fired).toEqual(['c', 'b']);
  });

  it('fires nothing after close', () => {
    const fired: string[] = [];
    const wheel = new RetryWheel((ids) => fired.push(...ids));
    wheel.schedule('a', 10);
    wheel.close();
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    expect(wheel.size).toBe(0);
  });
});
