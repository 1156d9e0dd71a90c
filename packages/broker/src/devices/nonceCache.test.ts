import { describe, expect, it } from 'vitest';
import { NonceCache } from './nonceCache.js';

describe('NonceCache', () => {
  it('accepts a nonce once while its proof could still pass the clock check', () => {
    const cache = new NonceCache(300_000);
    expect(cache.remember('SN|n1', 1_000_000, 1_000_000)).toBe('fresh');
    expect(cache.remember('SN|n1', 1_000_000, 1_299_000)).toBe('replayed');
    // Past proof time + skew the proof is stale anyway; the entry may go.
    expect(cache.remember('SN|n1', 1_000_000, 1_300_001)).toBe('fresh');
  });

  it('refuses new nonces when full of live ones instead of forgetting them', () => {
    const cache = new NonceCache(300_000, 3);
    for (const n of ['a', 'b', 'c']) expect(cache.remember(n, 0, 0)).toBe('fresh');
    expect(cache.remember('d', 0, 10)).toBe('full');
    expect(cache.remember('a', 0, 10)).toBe('replayed');
    // Once they expire the sweep frees room.
    expect(cache.remember('d', 400_000, 400_000)).toBe('fresh');
    expect(cache.size).toBe(1);
  });
});
