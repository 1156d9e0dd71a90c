/** A probe as the monitor sends it; the transport adds framing (and the device's serial). */
export interface OutgoingProbe {
  seq: number;
  sentAtMs: number;
}

export interface ProbeReplyReceived {
  seq: number;
  /** host:port the reply came from, for logs. */
  from: string;
}

/** How probes reach access points: UDP in production, an in-memory fake in tests. */
export interface ProbeTransport {
  /** Sends without waiting; a probe that cannot be sent simply gets no reply. */
  send(address: string, probe: OutgoingProbe): void;
  onReply(listener: (reply: ProbeReplyReceived) => void): () => void;
  close(): Promise<void>;
}
