import { createSocket, type Socket } from 'node:dgram';
import { decodeProbe, encodeProbe, probeReply } from '@opensag/proto';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from './clock.js';
import { type TunnelEvent, TunnelMonitor } from './tunnelMonitor.js';
import { UdpProbeTransport } from './udpTransport.js';

/** A minimal access point: answers well-formed probe requests, remembers the serials it saw. */
async function startResponder(): Promise<{ socket: Socket; port: number; serials: string[] }> {
  const socket = createSocket('udp4');
  const serials: string[] = [];
  socket.on('message', (message, remote) => {
    const probe = decodeProbe(message);
    if (probe?.type !== 'request') return;
    if (probe.serialNumber) serials.push(probe.serialNumber);
    socket.send(probeReply(probe), remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, serials };
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function nextEvent(monitor: TunnelMonitor, kind: TunnelEvent['kind']): Promise<TunnelEvent> {
  return new Promise((resolve) => {
    const off = monitor.onEvent((event) => {
      if (event.kind === kind) {
        off();
        resolve(event);
      }
    });
  });
}

describe('UdpProbeTransport', () => {
  it('round-trips probes with a responder on 127.0.0.1, and sees it go silent', async () => {
    const responder = await startResponder();
    const transport = await UdpProbeTransport.open({ serialNumber: 'SN-UDP-1', bindAddress: '127.0.0.1' });
    closers.push(() => transport.close());
    const monitor = new TunnelMonitor({
      clock: realClock,
      transport,
      tunnels: [{ accessPoint: 'ap-local', address: `127.0.0.1:${responder.port}`, role: 'active' }],
      keepalive: { intervalMs: 50, multiplier: 3, lossWindow: 10, holdDownMs: 0 },
    });
    closers.push(() => monitor.stop());
    const up = nextEvent(monitor, 'tunnel-up');
    monitor.start();
    expect((await up).accessPoint).toBe('ap-local');
    const stats = monitor.stats()[0];
    expect(stats.status).toBe('up');
    expect(stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(stats.rttMs).toBeLessThan(50);
    expect(responder.serials[0]).toBe('SN-UDP-1');

    const down = nextEvent(monitor, 'tunnel-down');
    const silentAt = Date.now();
    await new Promise<void>((resolve) => responder.socket.close(() => resolve()));
    await down;
    // Three missed 50 ms probes, plus at most one interval for the probe in flight.
    expect(Date.now() - silentAt).toBeLessThan(1000);
    expect(monitor.stats()[0].status).toBe('down');
  });

  it('ignores datagrams that are not probe replies, requests included', async () => {
    const transport = await UdpProbeTransport.open({ bindAddress: '127.0.0.1' });
    closers.push(() => transport.close());
    const received: number[] = [];
    transport.onReply((reply) => received.push(reply.seq));
    const sender = createSocket('udp4');
    closers.push(() => new Promise<void>((resolve) => sender.close(() => resolve())));
    const send = (bytes: Uint8Array) =>
      new Promise<void>((resolve) => sender.send(bytes, transport.port, '127.0.0.1', () => resolve()));
    await send(Buffer.from('hello'));
    await send(encodeProbe({ seq: 8, sentAtMs: 1 }));
    await send(probeReply({ type: 'request', seq: 9, sentAtMs: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual([9]);
  });

  it('refuses a serial number the probe cannot carry', async () => {
    await expect(UdpProbeTransport.open({ serialNumber: 'bad serial' })).rejects.toThrow(RangeError);
  });
});
