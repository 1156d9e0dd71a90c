/**
 * A protobuf wire writer independent of the generated code, for tests that must send what the
 * broker's encoder would refuse: uint64 past 2^53, strings past the limits, unknown fields,
 * a oneof set twice, a field repeated where one is expected.
 */

/** A varint (number or bigint, taken modulo 2^64), a length-delimited string or bytes, or a sub-message. */
export type WireValue = number | bigint | string | Uint8Array | WireField[];

export interface WireField {
  field: number;
  value: WireValue;
}

export function encodeWire(fields: readonly WireField[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const { field, value } of fields) writeField(chunks, field, value);
  return Buffer.concat(chunks);
}

function writeField(chunks: Uint8Array[], field: number, value: WireValue): void {
  if (typeof value === 'number' || typeof value === 'bigint') {
    chunks.push(varint(BigInt(field) << 3n), varint(BigInt.asUintN(64, BigInt(value))));
    return;
  }
  const bytes =
    typeof value === 'string'
      ? Buffer.from(value, 'utf8')
      : value instanceof Uint8Array
        ? value
        : encodeWire(value);
  chunks.push(varint((BigInt(field) << 3n) | 2n), varint(BigInt(bytes.length)), bytes);
}

function varint(value: bigint): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return Uint8Array.from(out);
}

/** Fields from an object keyed by field number; undefined entries are left out, arrays repeat. */
export function fields(entries: Record<number, WireValue | readonly WireValue[] | undefined>): WireField[] {
  const out: WireField[] = [];
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined) continue;
    const field = Number(key);
    if (Array.isArray(value) && !isMessage(value)) {
      for (const item of value as readonly WireValue[]) out.push({ field, value: item });
    } else out.push({ field, value: value as WireValue });
  }
  return out;
}

function isMessage(value: readonly unknown[]): boolean {
  return (
    value.length > 0 && value.every((item) => typeof item === 'object' && item !== null && 'field' in item)
  );
}
