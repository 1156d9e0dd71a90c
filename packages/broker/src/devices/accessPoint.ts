import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodeProbe, probeReply } from '@opensag/proto';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';

export interface AccessPoint {
  /** Where it is bound (an ephemeral port requested as 0 is resolved here). */
  address: HostPort;
  /** Probes answered since start. */
  readonly answered: number;
  close(): Promise<void>;
}

/**
 * The embedded access point: a UDP responder that echoes tunnel keepalive probes, so the default
 * setup needs no separate edge. A reply is never larger than its request (no amplification);
 * anything that is not exactly a probe request is dropped without a word.
 */
export async function startAccessPoint(at: HostPort, log: Logger): Promise<AccessPoint> {
  const socket: Socket = createSocket({ type: isIPv6(at.host) ? 'udp6' : 'udp4' });
  let answered = 0;
  socket.on('message', (message, peer) => {
    const probe = decodeProbe(message);
    if (probe?.type !== 'request') return;
    socket.send(probeReply(probe), peer.port, peer.address, (err) => {
      if (err) log.debug({ err, peer: peer.address }, 'keepalive reply not sent');
    });
    answered += 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => log.warn({ err }, 'access point socket error'));
  const bound = socket.address();
  log.info({ address: `${at.host}:${bound.port}` }, 'embedded access point answering keepalive probes');
  let closed: Promise<void> | null = null;
  return {
    address: { host: at.host, port: bound.port },
    get answered() {
      return answered;
    },
    close() {
      closed ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}
