/** An IPv4 block as a numeric range, so routing and pool checks need no re-parsing. */
export interface Ipv4Block {
  text: string;
  network: number;
  prefix: number;
  first: number;
  last: number;
}

/** Dotted decimal, four parts, no leading zeros (what `ipaddr.IPv4.isValidFourPartDecimal` takes). */
const FOUR_PART_DECIMAL =
  /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;

/**
 * The address as a number, or null. Parsed here rather than by ipaddr.js, which took a seventh of
 * an apply: every route, port and rule of every config goes through it, 10,000 times a round in
 * the simulator. `ipv4.test.ts` holds it to ipaddr.js's answers.
 */
export function parseIpv4(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const parts = FOUR_PART_DECIMAL.exec(text);
  if (!parts) return null;
  const a = Number(parts[1]);
  const b = Number(parts[2]);
  const c = Number(parts[3]);
  const d = Number(parts[4]);
  if (a > 255 || b > 255 || c > 255 || d > 255) return null;
  return a * 0x1000000 + (b << 16) + (c << 8) + d;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function prefixMask(prefix: number): number {
  // A shift by 32 is a shift by 0 in JavaScript, so /0 needs its own case.
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function splitPrefixed(text: unknown): { address: number; prefix: number } | null {
  if (typeof text !== 'string') return null;
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return null;
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (address === null || prefix > 32) return null;
  return { address, prefix };
}

function blockOf(network: number, prefix: number): Ipv4Block {
  const last = (network | ~prefixMask(prefix)) >>> 0;
  return { text: `${formatIpv4(network)}/${prefix}`, network, prefix, first: network, last };
}

/** A canonical CIDR block (no host bits set), or null. */
export function parseCidr(text: unknown): Ipv4Block | null {
  const parts = splitPrefixed(text);
  if (!parts) return null;
  const network = (parts.address & prefixMask(parts.prefix)) >>> 0;
  return network === parts.address ? blockOf(network, parts.prefix) : null;
}

/** An interface address with its prefix, e.g. 172.16.0.1/24: the host and its connected subnet. */
export function parseInterfaceAddress(text: unknown): { address: number; subnet: Ipv4Block } | null {
  const parts = splitPrefixed(text);
  if (!parts) return null;
  return {
    address: parts.address,
    subnet: blockOf((parts.address & prefixMask(parts.prefix)) >>> 0, parts.prefix),
  };
}

export function blocksOverlap(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.first <= b.last && b.first <= a.last;
}
