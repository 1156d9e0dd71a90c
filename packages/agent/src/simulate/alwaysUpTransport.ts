import type { OutgoingProbe, ProbeReplyReceived, ProbeTransport } from '../keepalive/transport.js';

/**
 * A probe network where every access point answers at once, so emulated tunnels come up without
 * a UDP socket per device: thousands of devices probing once a second would load the simulator,
 * not the broker under test.
 */
export class AlwaysUpProbeTransport implements ProbeTransport {
  private readonly listeners = new Set<(reply: ProbeReplyReceived) => void>();

  send(address: string, probe: OutgoingProbe): void {
    queueMicrotask(() => {
      for (const listener of this.listeners) listener({ seq: probe.seq, from: address });
    });
  }

  onReply(listener: (reply: ProbeReplyReceived) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
