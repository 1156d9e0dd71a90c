import { createSocket, type Socket } from 'node:dgram';
import { decodeProbe, encodeProbe } from '@opensag/proto';
import { parseHostPort } from '../config.js';
import type { OutgoingProbe, ProbeReplyReceived, ProbeTransport } from './transport.js';

export interface UdpProbeTransportOptions {
  /** Carried in each probe so the access point can tell devices apart. */
  serialNumber?: string;
  /** Local address to bind; defaults to all interfaces, any port. */
  bindAddress?: string;
}

/** Keepalive probes over UDP (IPv4), framed by the shared probe codec. */
export class UdpProbeTransport implements ProbeTransport {
  private readonly listeners = new Set<(reply: ProbeReplyReceived) => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly serialNumber: string | undefined,
  ) {
    socket.on('message', (message, remote) => {
      const decoded = decodeProbe(message);
      // Anything but a well-formed reply is dropped: the port is reachable by anyone.
      if (decoded?.type !== 'reply') return;
      const reply = { seq: decoded.seq, from: `${remote.address}:${remote.port}` };
      for (const listener of this.listeners) listener(reply);
    });
    // A send to an unreachable port surfaces here on some systems; it is just a missed probe.
    socket.on('error', () => undefined);
  }

  static async open(options: UdpProbeTransportOptions = {}): Promise<UdpProbeTransport> {
    // Fail at start, not on every probe, when the serial cannot be framed.
    encodeProbe({ seq: 0, sentAtMs: 0, serialNumber: options.serialNumber });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: options.bindAddress }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpProbeTransport(socket, options.serialNumber);
  }

  /** The local port probes are sent from. */
  get port(): number {
    return this.socket.address().port;
  }

  send(address: string, probe: OutgoingProbe): void {
    const target = parseHostPort(address);
    if (!target) return;
    const bytes = encodeProbe({ ...probe, serialNumber: this.serialNumber });
    this.socket.send(bytes, target.port, target.host, () => undefined);
  }

  onReply(listener: (reply: ProbeReplyReceived) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.listeners.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
