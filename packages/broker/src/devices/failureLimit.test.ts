import { describe, expect, it } from 'vitest';
import { FailureLimit, sourceKey } from './failureLimit.js';

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

describe('FailureLimit refusals and sources', () => {
  it('says to log the first refusal of a blocked address, then once a minute with the count', () => {
    const limit = new FailureLimit({ burst: 1, perMinute: 1 });
    limit.fail('198.51.100.7', 0);
    expect(limit.refused('198.51.100.7', 0)).toBe(1);
    for (let i = 1; i <= 500; i++) expect(limit.refused('198.51.100.7', i)).toBeNull();
    expect(limit.refused('198.51.100.7', 60_001)).toBe(501);
  });

  it('counts an IPv6 source by its /64, and an IPv4-mapped one as IPv4', () => {
    const limit = new FailureLimit({ burst: 2, perMinute: 1 });
    limit.fail('2001:db8:1:2::a', 0);
    limit.fail('2001:db8:1:2:ffff::b', 0);
    expect(limit.blocked('2001:db8:1:2::c', 0)).toBe(true);
    expect(limit.blocked('2001:db8:1:3::a', 0)).toBe(false);
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('unknown')).toBe('unknown');
  });
});
