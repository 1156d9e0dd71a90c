import { describe, expect, it } from 'vitest';
import { NonceCache } from './nonceCache.js';

describe('NonceCache', () => {
  it('accepts a nonce once while its proof could still pass the clock check', () => {
    const cache = new NonceCache(300_000);
    expect(cache.remember('SN', 'n1', 1_000_000, 1_000_000)).toBe('fresh');
    expect(cache.remember('SN', 'n1', 1_000_000, 1_299_000)).toBe('replayed');
    // The same nonce from another serial number is another proof.
    expect(cache.remember('SN2', 'n1', 1_000_000, 1_299_000)).toBe('fresh');
    // Past proof time + skew the proof is stale anyway; the entry may go.
    expect(cache.remember('SN', 'n1', 1_000_000, 1_300_001)).toBe('fresh');
    expect(cache.size).toBe(2);
  });

  it('refuses new nonces when full of live ones instead of forgetting them', () => {
    const cache = new NonceCache(300_000, 3);
    for (const [sn, n] of [
      ['A', 'a'],
      ['B', 'b'],
      ['C', 'c'],
    ])
      expect(cache.remember(sn, n, 0, 0)).toBe('fresh');
    expect(cache.remember('D', 'd', 0, 10)).toBe('full');
    expect(cache.remember('A', 'a', 0, 10)).toBe('replayed');
    // Once they expire the sweep frees room.
    expect(cache.remember('D', 'd', 400_000, 400_000)).toBe('fresh');
    expect(cache.size).toBe(1);
  });

  it('gives each serial number its share, so one key in a loop locks out only itself', () => {
    const cache = new NonceCache(300_000, 100, 3);
    for (const n of ['a', 'b', 'c']) expect(cache.remember('CLONED', n, 0, 0)).toBe('fresh');
    expect(cache.remember('CLONED', 'd', 0, 1)).toBe('serial-full');
    expect(cache.remember('OTHER', 'd', 0, 1)).toBe('fresh');
    expect(cache.remember('CLONED', 'd', 400_000, 400_000)).toBe('fresh');
    expect(cache.size).toBe(2);
  });

  it('still refuses a replay of the nonce taken right after its serial number was swept empty', () => {
    const cache = new NonceCache(300_000, 100, 3);
    for (const n of ['a', 'b', 'c']) expect(cache.remember('SN', n, 0, 0)).toBe('fresh');
    // All three expired: the full share is swept to nothing, then this nonce goes in.
    expect(cache.remember('SN', 'd', 400_000, 400_000)).toBe('fresh');
    expect(cache.remember('SN', 'd', 400_000, 400_001)).toBe('replayed');
    expect(cache.size).toBe(1);
  });
});
