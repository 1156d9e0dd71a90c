import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProbe, encodeProbe, KEEPALIVE_MAX_BYTES, probeReply } from './keepalive.js';

describe('keepalive probe codec', () => {
  it('round-trips a request with and without a serial number', () => {
    const withSerial = decodeProbe(
      encodeProbe({ seq: 7, sentAtMs: 1_700_000_000_123.25, serialNumber: 'SN-0001' }),
    );
    expect(withSerial).toEqual({
      type: 'request',
      seq: 7,
      sentAtMs: 1_700_000_000_123.25,
      serialNumber: 'SN-0001',
    });
    expect(decodeProbe(encodeProbe({ seq: 0xffffffff, sentAtMs: 0 }))).toEqual({
      type: 'request',
      seq: 0xffffffff,
      sentAtMs: 0,
    });
  });

  it('starts with the SAGK magic and version 1', () => {
    const bytes = encodeProbe({ seq: 1, sentAtMs: 1 });
    expect(Buffer.from(bytes.subarray(0, 4)).toString('ascii')).toBe('SAGK');
    expect(bytes[4]).toBe(1);
    expect(bytes.length).toBe(19);
  });

  it('replies with the same seq and timestamp, type reply, and no more bytes than the request', () => {
    const requestBytes = encodeProbe({ seq: 42, sentAtMs: 99.5, serialNumber: 'sag-box-1' });
    const request = decodeProbe(requestBytes);
    if (request?.type !== 'request') throw new Error('expected a request');
    const reply = probeReply(request);
    expect(decodeProbe(reply)).toEqual({ type: 'reply', seq: 42, sentAtMs: 99.5, serialNumber: 'sag-box-1' });
    expect(reply.length).toBeLessThanOrEqual(requestBytes.length);
  });

  it('decodes from a Buffer that is a slice of a larger pool', () => {
    const inner = encodeProbe({ seq: 5, sentAtMs: 10 });
    const pool = Buffer.alloc(100, 0xaa);
    pool.set(inner, 30);
    expect(decodeProbe(pool.subarray(30, 30 + inner.length))).toMatchObject({ seq: 5, sentAtMs: 10 });
  });

  it('returns null on garbage: wrong magic, version, type, length, serial or timestamp', () => {
    const good = encodeProbe({ seq: 1, sentAtMs: 5, serialNumber: 'ab' });
    const mutate = (index: number, value: number) => {
      const copy = Uint8Array.from(good);
      copy[index] = value;
      return copy;
    };
    expect(decodeProbe(mutate(0, 0x58))).toBeNull();
    expect(decodeProbe(mutate(4, 2))).toBeNull();
    expect(decodeProbe(mutate(5, 3))).toBeNull();
    expect(decodeProbe(mutate(18, 3))).toBeNull();
    expect(decodeProbe(mutate(19, 0x20))).toBeNull();
    expect(decodeProbe(good.subarray(0, 18))).toBeNull();
    expect(decodeProbe(new Uint8Array(KEEPALIVE_MAX_BYTES + 1))).toBeNull();
    const nan = Uint8Array.from(good);
    new DataView(nan.buffer).setFloat64(10, Number.NaN);
    expect(decodeProbe(nan)).toBeNull();
    expect(decodeProbe(new Uint8Array(0))).toBeNull();
  });

  it('refuses to encode fields that do not fit', () => {
    expect(() => encodeProbe({ seq: -1, sentAtMs: 0 })).toThrow(RangeError);
    expect(() => encodeProbe({ seq: 2 ** 32, sentAtMs: 0 })).toThrow(RangeError);
    expect(() => encodeProbe({ seq: 1, sentAtMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => encodeProbe({ seq: 1, sentAtMs: 0, serialNumber: 'x'.repeat(65) })).toThrow(RangeError);
    expect(() => encodeProbe({ seq: 1, sentAtMs: 0, serialNumber: 'has space' })).toThrow(RangeError);
  });

  it('never throws on arbitrary bytes and only accepts what it could have encoded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const decoded = decodeProbe(bytes);
        if (decoded) {
          const again =
            decoded.type === 'request' ? encodeProbe(decoded) : probeReply({ ...decoded, type: 'request' });
          expect(Array.from(again)).toEqual(Array.from(bytes));
        }
      }),
    );
  });

  it('round-trips any encodable fields', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.double({ min: 0, max: 1e15, noNaN: true }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), { nil: undefined }),
        (seq, sentAtMs, serialNumber) => {
          const decoded = decodeProbe(encodeProbe({ seq, sentAtMs, serialNumber }));
          expect(decoded).toEqual({
            type: 'request',
            seq,
            sentAtMs,
            ...(serialNumber ? { serialNumber } : {}),
          });
        },
      ),
    );
  });
});
