import { createSocket } from 'node:dgram';
import { decodeProbe, encodeProbe } from '@opensag/proto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type AccessPoint, startAccessPoint } from './accessPoint.js';

let ap: AccessPoint;
afterEach(() => ap.close());

async function exchange(port: number, datagrams: Uint8Array[], waitMs = 300): Promise<Buffer[]> {
  const socket = createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  for (const d of datagrams) socket.send(d, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  socket.close();
  return replies;
}

describe('embedded access point', () => {
  it('answers a keepalive probe with a reply echoing its fields', async () => {
    ap = await startAccessPoint({ host: '127.0.0.1', port: 0 }, pino({ level: 'silent' }));
    const request = encodeProbe({ seq: 42, sentAtMs: 1234.5, serialNumber: 'SAG-1' });
    const [reply] = await exchange(ap.address.port, [request]);
    expect(decodeProbe(reply)).toEqual({ type: 'reply', seq: 42, sentAtMs: 1234.5, serialNumber: 'SAG-1' });
    expect(reply.length).toBeLessThanOrEqual(request.length);
    expect(ap.answered).toBe(1);
  });

  it('ignores garbage and replies, and keeps answering', async () => {
    ap = await startAccessPoint({ host: '127.0.0.1', port: 0 }, pino({ level: 'silent' }));
    const reply = Buffer.from(encodeProbe({ seq: 1, sentAtMs: 1 }));
    reply[5] = 2;
    const garbage = [Buffer.alloc(0), Buffer.from('SAGK'), Buffer.alloc(2000, 1), reply];
    expect(await exchange(ap.address.port, garbage, 150)).toEqual([]);
    const answers = await exchange(ap.address.port, [encodeProbe({ seq: 7, sentAtMs: 9 })]);
    expect(answers).toHaveLength(1);
  });
});
