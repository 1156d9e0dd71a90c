/**
 * Reads `revision` (field 2, varint) and `hash` (field 3, string) straight off the protobuf wire of
 * a DesiredConfig the decoder refused, so the refusal can still be acked against its revision.
 * Returns null when even that much cannot be read; it never throws.
 */
export function peekRevision(bytes: Uint8Array): { revision: number; hash: string } | null {
  let revision = 0;
  let hash = '';
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const tag = readVarint(bytes, pos);
      pos = tag.next;
      const field = Math.floor(tag.value / 8);
      const wireType = tag.value % 8;
      if (wireType === 0) {
        const value = readVarint(bytes, pos);
        pos = value.next;
        if (field === 2) revision = value.value;
      } else if (wireType === 2) {
        const length = readVarint(bytes, pos);
        const end = length.next + length.value;
        if (end > bytes.length) return null;
        if (field === 3)
          hash = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(length.next, end));
        pos = end;
      } else if (wireType === 1 || wireType === 5) {
        pos += wireType === 1 ? 8 : 4;
        if (pos > bytes.length) return null;
      } else return null;
    }
  } catch {
    return null;
  }
  return Number.isSafeInteger(revision) && revision > 0 ? { revision, hash } : null;
}

function readVarint(bytes: Uint8Array, start: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let pos = start; pos < bytes.length && pos < start + 10; pos++) {
    const byte = bytes[pos];
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, next: pos + 1 };
  }
  throw new RangeError('truncated varint');
}
