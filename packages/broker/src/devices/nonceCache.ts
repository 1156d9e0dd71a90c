/**
 * Nonces of accepted CONNECT proofs, kept until their proof could no longer pass the clock check,
 * so each proof works once. Bounded: when full of live nonces it refuses new ones (fails closed)
 * rather than forget one that could still be replayed.
 */
export class NonceCache {
  private readonly expiries = new Map<string, number>();
  private insertsSinceSweep = 0;

  constructor(
    /** How long after the proof's own timestamp it stays acceptable (the skew window). */
    private readonly skewMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /**
   * Remembers `nonce` of a proof stamped `proofMillis`. Returns 'replayed' when it was seen
   * before, 'full' when the cache cannot take it, else 'fresh'.
   */
  remember(key: string, proofMillis: number, nowMs: number): 'fresh' | 'replayed' | 'full' {
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry >= nowMs) return 'replayed';
    if (++this.insertsSinceSweep >= 1000 || this.expiries.size >= this.maxEntries) this.sweep(nowMs);
    if (this.expiries.size >= this.maxEntries) return 'full';
    this.expiries.set(key, proofMillis + this.skewMs);
    return 'fresh';
  }

  get size(): number {
    return this.expiries.size;
  }

  private sweep(nowMs: number): void {
    this.insertsSinceSweep = 0;
    for (const [key, expiry] of this.expiries) if (expiry < nowMs) this.expiries.delete(key);
  }
}
