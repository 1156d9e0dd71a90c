import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodeProbe, probeReply } from '@opensag/proto';
import { type AgentLog, silentLog } from '../session/log.js';

export interface ProbeResponderOptions {
  host: string;
  /** 0 picks a free port (tests); `address.port` then says which. */
  port: number;
  log?: AgentLog;
}

export interface ProbeResponder {
  /** Where it is bound. */
  readonly address: { host: string; port: number };
  /** Probes answered since start. */
  readonly answered: number;
  close(): Promise<void>;
}

/**
 * The access point's side of the tunnel keepalive: echoes each probe request as a reply, as the
 * broker's embedded access point does. A reply is never larger than its request (no
 * amplification); anything that is not exactly a probe request is dropped without a word.
 */
export async function startProbeResponder(options: ProbeResponderOptions): Promise<ProbeResponder> {
  const log = options.log ?? silentLog;
  const socket: Socket = createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4' });
  let answered = 0;
  socket.on('message', (message, peer) => {
    const probe = decodeProbe(message);
    if (probe?.type !== 'request') return;
    socket.send(probeReply(probe), peer.port, peer.address, (err) => {
      if (err) log.debug('keepalive reply not sent', { peer: peer.address, error: err.message });
    });
    answered += 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => log.warn('probe responder socket error', { error: err.message }));
  const address = { host: options.host, port: socket.address().port };
  log.info('answering tunnel keepalive probes', { address: `${address.host}:${address.port}` });
  let closed: Promise<void> | null = null;
  return {
    address,
    get answered() {
      return answered;
    },
    close() {
      closed ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closed;
    },
  };
}
