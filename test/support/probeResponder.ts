import { createSocket } from 'node:dgram';
import { decodeProbe, probeReply } from '@opensag/proto';

/** A stand-in access point in the test process: echoes tunnel keepalive probes over UDP. */
export interface ProbeResponder {
  /** `127.0.0.1:port`, for the broker's `accessPoints` setting. */
  address: string;
  readonly answered: number;
  close(): Promise<void>;
}

export async function startProbeResponder(): Promise<ProbeResponder> {
  const socket = createSocket('udp4');
  let answered = 0;
  socket.on('message', (message, peer) => {
    const probe = decodeProbe(message);
    if (probe?.type !== 'request') return;
    socket.send(probeReply(probe), peer.port, peer.address);
    answered += 1;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let closing: Promise<void> | null = null;
  return {
    address: `127.0.0.1:${socket.address().port}`,
    get answered() {
      return answered;
    },
    close() {
      closing ??= new Promise<void>((resolve) => socket.close(() => resolve()));
      return closing;
    },
  };
}
