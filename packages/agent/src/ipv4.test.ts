import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { formatIpv4, parseCidr, parseIpv4 } from './ipv4.js';

/** The definition parseIpv4 keeps: ipaddr.js's four-part decimal form. */
function byIpaddr(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

/** Strings near an address: parts from the edges of the range, with stray signs, zeros and spaces. */
const nearAddress = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('00', '01', '007', '0x1f', '1e2', '+1', '-1', ' 1', '1 ', '', '٣', '4294967295'),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .chain((parts) => fc.constantFrom('.', '..', ',').map((dot) => parts.join(dot)));

describe('parseIpv4', () => {
  it('agrees with ipaddr.js on addresses, near-addresses and arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), nearAddress, fc.string(), fc.ipV4Extended()), (text) => {
        expect(parseIpv4(text)).toBe(byIpaddr(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads the ends of the range and refuses what is not a string', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    expect(parseIpv4('256.0.0.1')).toBeNull();
    expect(parseIpv4('10.1.2.3\n')).toBeNull();
    expect(parseIpv4(0x0a010203)).toBeNull();
    expect(parseIpv4(undefined)).toBeNull();
  });

  it('round-trips through formatIpv4', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        expect(parseIpv4(formatIpv4(value))).toBe(value);
      }),
    );
  });
});

describe('parseCidr', () => {
  it('takes canonical blocks only', () => {
    expect(parseCidr('10.1.0.0/16')).toMatchObject({ network: 0x0a010000, prefix: 16, last: 0x0a01ffff });
    expect(parseCidr('10.1.0.1/16')).toBeNull();
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ first: 0, last: 0xffffffff });
    expect(parseCidr('10.1.0.0/33')).toBeNull();
    expect(parseCidr('10.1.0.0')).toBeNull();
  });
});
