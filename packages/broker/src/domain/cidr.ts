import ipaddr from 'ipaddr.js';
import { SagError } from '../errors.js';

/** An IPv4 block as a numeric range, for overlap tests without re-parsing. */
export interface Block {
  text: string;
  first: number;
  last: number;
  prefix: number;
}

export interface PrefixLimits {
  min: number;
  max: number;
}

/** Branch private blocks: /8 to /31 (SPEC §3). */
export const PRIVATE_CIDR_PREFIX: PrefixLimits = { min: 8, max: 31 };

function toNumber(address: ipaddr.IPv4): number {
  const [a, b, c, d] = address.octets;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

function fromNumber(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/**
 * Parses a canonical IPv4 CIDR block. Host bits set, a prefix out of range or a malformed string
 * is an INVALID_CIDR error whose message names the field and, for host bits, the canonical form.
 */
export function parseBlock(text: string, field: string, limits: PrefixLimits = PRIVATE_CIDR_PREFIX): Block {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(typeof text === 'string' ? text : '');
  if (!match || !ipaddr.IPv4.isValidFourPartDecimal(match[1])) {
    throw new SagError(
      'INVALID_CIDR',
      `${field}: "${String(text)}" is not an IPv4 CIDR block such as 172.16.0.0/16`,
      {
        field,
        value: text,
      },
    );
  }
  const prefix = Number(match[2]);
  if (prefix < limits.min || prefix > limits.max) {
    throw new SagError(
      'INVALID_CIDR',
      `${field}: ${text} has prefix /${prefix}; allowed prefixes are /${limits.min} to /${limits.max}`,
      { field, value: text, min: limits.min, max: limits.max },
    );
  }
  const address = toNumber(ipaddr.IPv4.parse(match[1]));
  const size = 2 ** (32 - prefix);
  const first = address - (address % size);
  if (first !== address) {
    const canonical = `${fromNumber(first)}/${prefix}`;
    throw new SagError('INVALID_CIDR', `${field}: ${text} has host bits set; did you mean ${canonical}?`, {
      field,
      value: text,
      canonical,
    });
  }
  return { text, first, last: first + size - 1, prefix };
}

export function blocksOverlap(a: Block, b: Block): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Parses a dotted IPv4 address; INVALID_ARGUMENT naming the field when malformed. */
export function parseAddress(text: string, field: string): number {
  if (typeof text !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw new SagError('INVALID_ARGUMENT', `${field}: "${String(text)}" is not an IPv4 address`, {
      field,
      value: text,
    });
  }
  return toNumber(ipaddr.IPv4.parse(text));
}

export function blockContains(block: Block, address: number): boolean {
  return address >= block.first && address <= block.last;
}
