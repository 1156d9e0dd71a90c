/**
 * Nonces of accepted CONNECT proofs, kept until their proof could no longer pass the clock check,
 * so each proof works once. Bounded: when full of live nonces it refuses new ones (fails closed)
 * rather than forget one that could still be replayed. Each serial number has its own share, so
 * one key presenting proofs in a loop (a clone, a stolen key) locks out only itself, never the
 * fleet: a device reconnecting every 5 s holds about 60 live nonces, far below the 500 allowed.
 */
export class NonceCache {
  private readonly bySerial = new Map<string, Map<string, number>>();
  private entries = 0;
  private insertsSinceSweep = 0;

  constructor(
    /** How long after the proof's own timestamp it stays acceptable (the skew window). */
    private readonly skewMs: number,
    private readonly maxEntries = 100_000,
    private readonly maxPerSerial = 500,
  ) {}

  /**
   * Remembers `nonce` of a proof by `serialNumber` stamped `proofMillis`. Returns 'replayed' when
   * it was seen before, 'full' when the cache cannot take it, 'serial-full' when this serial number
   * holds its whole share of live nonces, else 'fresh'.
   */
  remember(
    serialNumber: string,
    nonce: string,
    proofMillis: number,
    nowMs: number,
  ): 'fresh' | 'replayed' | 'full' | 'serial-full' {
    const expiry = this.bySerial.get(serialNumber)?.get(nonce);
    if (expiry !== undefined && expiry >= nowMs) return 'replayed';
    if (++this.insertsSinceSweep >= 1000 || this.entries >= this.maxEntries) this.sweep(nowMs);
    if (this.entries >= this.maxEntries) return 'full';
    let nonces = this.bySerial.get(serialNumber);
    if (!nonces) {
      nonces = new Map();
      this.bySerial.set(serialNumber, nonces);
    }
    if (nonces.size >= this.maxPerSerial) this.sweepSerial(nonces, nowMs);
    if (nonces.size >= this.maxPerSerial) return 'serial-full';
    if (!nonces.has(nonce)) this.entries += 1;
    nonces.set(nonce, proofMillis + this.skewMs);
    return 'fresh';
  }

  get size(): number {
    return this.entries;
  }

  private sweep(nowMs: number): void {
    this.insertsSinceSweep = 0;
    for (const [serialNumber, nonces] of this.bySerial) {
      this.sweepSerial(nonces, nowMs);
      if (nonces.size === 0) this.bySerial.delete(serialNumber);
    }
  }

  /**
   * Drops a serial number's expired nonces. Its map stays even when emptied: `remember` is about
   * to add to it, and a map no longer in `bySerial` would take the nonce and forget it.
   */
  private sweepSerial(nonces: Map<string, number>, nowMs: number): void {
    for (const [nonce, expiry] of nonces) {
      if (expiry >= nowMs) continue;
      nonces.delete(nonce);
      this.entries -= 1;
    }
  }
}
