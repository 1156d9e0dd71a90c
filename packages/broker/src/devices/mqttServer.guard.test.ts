import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guardPacketSize } from './mqttServer.js';

const FIRST = 100;
const MAX = 1000;
const limitOf = (index: number) => (index === 0 ? FIRST : MAX);

/** The remaining-length varint of MQTT. */
function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  let rest = length;
  do {
    const digit = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? digit | 0x80 : digit);
  } while (rest > 0);
  return bytes;
}

/**
 * Feeds `chunks` through a stream read the way aedes reads a connection ('readable' and read()),
 * with the guard attached after it; what was read and how the stream ended.
 */
async function feed(chunks: Buffer[]): Promise<{ read: number; error: Error | null }> {
  const conn = new PassThrough();
  let read = 0;
  conn.on('readable', () => {
    for (let chunk = conn.read(); chunk !== null; chunk = conn.read()) read += chunk.length;
  });
  guardPacketSize(conn, { first: FIRST, rest: MAX });
  let error: Error | null = null;
  conn.on('error', (err) => {
    error = err;
  });
  for (const chunk of chunks) {
    if (conn.destroyed) break;
    conn.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { read, error };
}

/** Packets of random type and size around the limit, their bytes cut at random points. */
const stream = fc
  .tuple(
    fc.array(
      fc.record({
        type: fc.integer({ min: 0, max: 255 }),
        length: fc.oneof(
          fc.integer({ min: 0, max: MAX }),
          fc.constantFrom(FIRST, FIRST + 1, MAX, MAX + 1, 268_435_455),
        ),
      }),
      { minLength: 1, maxLength: 12 },
    ),
    fc.array(fc.nat(), { maxLength: 8 }),
  )
  .map(([packets, cuts]) => {
    // Oversized bodies are never sent whole: the guard must act on the header alone.
    const bytes = Buffer.concat(
      packets.map((p) =>
        Buffer.concat([
          Buffer.from([p.type, ...remainingLength(p.length)]),
          Buffer.alloc(Math.min(p.length, MAX + 1), 0x41),
        ]),
      ),
    );
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks = [0, ...points].map((from, i) => bytes.subarray(from, [...points, bytes.length][i]));
    return { packets, chunks: chunks.filter((c) => c.length > 0) };
  });

describe('guardPacketSize', () => {
  it('ends a connection at the first packet announcing more than its limit, wherever the bytes are cut', async () => {
    await fc.assert(
      fc.asyncProperty(stream, async ({ packets, chunks }) => {
        const { error } = await feed(chunks);
        const at = packets.findIndex((p, index) => p.length > limitOf(index));
        if (at >= 0) {
          const { length } = packets[at];
          expect(error?.message).toBe(`MQTT packet of ${length} bytes refused: the limit is ${limitOf(at)}`);
        } else {
          expect(error).toBeNull();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lets every byte of a stream of packets within the limit through', async () => {
    const connect = Buffer.from([0x10, ...remainingLength(FIRST), ...Buffer.alloc(FIRST, 1)]);
    const packet = Buffer.from([0x30, ...remainingLength(MAX), ...Buffer.alloc(MAX, 1)]);
    const bytes = Buffer.concat([connect, ...Array(50).fill(packet)]);
    const { read, error } = await feed([bytes.subarray(0, 7), bytes.subarray(7, 5000), bytes.subarray(5000)]);
    expect(error).toBeNull();
    expect(read).toBe(bytes.length);
  });
});
