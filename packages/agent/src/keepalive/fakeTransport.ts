import type { Clock } from './clock.js';
import type { OutgoingProbe, ProbeReplyReceived, ProbeTransport } from './transport.js';

interface Responder {
  answering: boolean;
  rttMs: number;
}

/**
 * An in-memory network of probe responders on a clock: each address answers after its RTT while
 * it is answering. For tests of anything that probes.
 */
export class FakeProbeTransport implements ProbeTransport {
  private readonly responders = new Map<string, Responder>();
  private readonly listeners = new Set<(reply: ProbeReplyReceived) => void>();
  readonly sent: { address: string; probe: OutgoingProbe; at: number }[] = [];

  constructor(private readonly clock: Clock) {}

  /** Sets how `address` behaves from now on; unknown addresses never answer. */
  respond(address: string, answering: boolean, rttMs = this.responders.get(address)?.rttMs ?? 10): void {
    this.responders.set(address, { answering, rttMs });
  }

  send(address: string, probe: OutgoingProbe): void {
    this.sent.push({ address, probe, at: this.clock.now() });
    const responder = this.responders.get(address);
    if (!responder?.answering) return;
    this.clock.setTimeout(() => {
      for (const listener of this.listeners) listener({ seq: probe.seq, from: address });
    }, responder.rttMs);
  }

  onReply(listener: (reply: ProbeReplyReceived) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
