import { describe, expect, it } from 'vitest';
import { FailureLimit } from './failureLimit.js';

describe('FailureLimit', () => {
  it('blocks an address after its burst of failures and forgives it over time', () => {
    const limit = new FailureLimit({ burst: 3, perMinute: 6 });
    for (let i = 0; i < 3; i++) {
      expect(limit.blocked('198.51.100.7', 0)).toBe(false);
      limit.fail('198.51.100.7', 0);
    }
    expect(limit.blocked('198.51.100.7', 0)).toBe(true);
    expect(limit.blocked('198.51.100.8', 0)).toBe(false);
    expect(limit.blocked('198.51.100.7', 10_000)).toBe(false); // one failure forgiven per 10 s
  });

  it('tracks a bounded number of addresses', () => {
    const limit = new FailureLimit({ burst: 1, perMinute: 1, maxAddresses: 2 });
    for (const a of ['a', 'b', 'c']) limit.fail(a, 0);
    expect(limit.blocked('a', 0)).toBe(false);
    expect(limit.blocked('c', 0)).toBe(true);
  });
});
