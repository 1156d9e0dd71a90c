import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openFrom, parseSourceAddresses } from './sourceAddress.js';

describe('source addresses', () => {
  it('opens the MQTT client from the address given', async () => {
    const seen: string[] = [];
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      seen.push(socket.remoteAddress ?? '');
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const url = `mqtt://127.0.0.1:${port}`;
    const client = openFrom(url, '127.0.0.3')(url, { reconnectPeriod: 0, connectTimeout: 2000 });
    client.on('error', () => undefined);
    await expect.poll(() => seen).toEqual(['127.0.0.3']);
    client.end(true);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('takes mqtt:// brokers only, and IPv4 addresses', () => {
    expect(() => openFrom('ws://127.0.0.1:8080/mqtt', '127.0.0.2')).toThrow(/need an mqtt:\/\/HOST:PORT/);
    expect(parseSourceAddresses('127.0.0.2, 127.0.0.3,')).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(() => parseSourceAddresses('127.0.0.2,127.0.0.300')).toThrow(
      /"127.0.0.300" is not an IPv4 address/,
    );
    expect(() => parseSourceAddresses(',')).toThrow(/is empty/);
  });
});
