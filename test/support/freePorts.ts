import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export interface LoopbackPorts {
  tcp: number[];
  udp: number[];
}

interface Bound {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: any free port); rejects when the port is taken. */
function bindLoopback(kind: 'tcp' | 'udp', port: number): Promise<Bound> {
  return new Promise((resolve, reject) => {
    if (kind === 'tcp') {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () =>
        resolve({
          port: (server.address() as { port: number }).port,
          close: () => new Promise((done) => server.close(() => done())),
        }),
      );
    } else {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () =>
        resolve({
          port: socket.address().port,
          close: () => new Promise((done) => socket.close(() => done())),
        }),
      );
    }
  });
}

/** Binds every port of `ports` (all held at once), then releases them; returns what it bound. */
async function holdAll(ports: LoopbackPorts): Promise<LoopbackPorts> {
  const bound: { kind: 'tcp' | 'udp'; socket: Bound }[] = [];
  try {
    for (const kind of ['tcp', 'udp'] as const) {
      for (const port of ports[kind]) bound.push({ kind, socket: await bindLoopback(kind, port) });
    }
    const of = (kind: 'tcp' | 'udp') => bound.filter((b) => b.kind === kind).map((b) => b.socket.port);
    return { tcp: of('tcp'), udp: of('udp') };
  } finally {
    await Promise.all(bound.map((b) => b.socket.close()));
  }
}

/**
 * Loopback ports free right now, for a program that takes fixed ports. All are held open until
 * every one is chosen, so no two answers are the same port; the caller binds them soon after.
 */
export function freeLoopbackPorts(tcpCount: number, udpCount = 0): Promise<LoopbackPorts> {
  return holdAll({ tcp: new Array(tcpCount).fill(0), udp: new Array(udpCount).fill(0) });
}

/** Whether every one of these loopback ports can be bound now (nothing else holds it). */
export async function loopbackPortsFree(ports: LoopbackPorts): Promise<boolean> {
  try {
    await holdAll(ports);
    return true;
  } catch {
    return false;
  }
}
