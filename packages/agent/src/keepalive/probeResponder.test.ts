import { createSocket, type Socket } from 'node:dgram';
import { decodeProbe, encodeProbe, probeReply } from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ProbeResponder, startProbeResponder } from './probeResponder.js';

let responder: ProbeResponder;
let client: Socket;
const received: Buffer[] = [];

beforeEach(async () => {
  responder = await startProbeResponder({ host: '127.0.0.1', port: 0 });
  client = createSocket('udp4');
  received.length = 0;
  client.on('message', (message) => received.push(message));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
});

afterEach(async () => {
  await responder.close();
  await new Promise<void>((resolve) => client.close(() => resolve()));
});

const send = (bytes: Uint8Array) =>
  new Promise<void>((resolve) => client.send(bytes, responder.address.port, '127.0.0.1', () => resolve()));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the access point probe responder', () => {
  it('answers a probe request with the reply the broker embedded access point would send', async () => {
    expect(responder.address).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    expect(responder.address.port).toBeGreaterThan(0);
    const request = { seq: 42, sentAtMs: 1234.5, serialNumber: 'SN-HZ-0001' };
    await send(encodeProbe(request));
    await until(() => received.length > 0);
    expect(received).toHaveLength(1);
    expect(new Uint8Array(received[0])).toEqual(probeReply({ type: 'request', ...request }));
    expect(decodeProbe(received[0])).toEqual({ type: 'reply', ...request });
    expect(responder.answered).toBe(1);
  });

  it('drops anything that is not a probe request, and still answers the next real one', async () => {
    await send(Buffer.from('hello'));
    await send(probeReply({ type: 'request', seq: 1, sentAtMs: 1 }));
    await send(encodeProbe({ seq: 2, sentAtMs: 2 }));
    await until(() => received.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received.map((message) => decodeProbe(message)?.seq)).toEqual([2]);
    expect(responder.answered).toBe(1);
  });

  it('fails to start when the port is taken', async () => {
    await expect(startProbeResponder({ host: '127.0.0.1', port: responder.address.port })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});
