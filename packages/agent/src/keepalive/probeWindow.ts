/**
 * The outcomes of a tunnel's most recent probes (an RTT, or null for a miss), from which the
 * report's loss and jitter figures are computed.
 */
export class ProbeWindow {
  private outcomes: (number | null)[] = [];

  constructor(private size: number) {}

  record(rttMs: number | null): void {
    this.outcomes.push(rttMs);
    if (this.outcomes.length > this.size) this.outcomes.splice(0, this.outcomes.length - this.size);
  }

  resize(size: number): void {
    this.size = size;
    if (this.outcomes.length > size) this.outcomes.splice(0, this.outcomes.length - size);
  }

  /** Percentage of probes in the window that got no reply; 0 before any probe resolved. */
  get lossPercent(): number {
    if (this.outcomes.length === 0) return 0;
    const missed = this.outcomes.filter((o) => o === null).length;
    return (100 * missed) / this.outcomes.length;
  }

  get lastRttMs(): number | null {
    for (let i = this.outcomes.length - 1; i >= 0; i--)
      if (this.outcomes[i] !== null) return this.outcomes[i];
    return null;
  }

  get averageRttMs(): number | null {
    const rtts = this.rtts();
    return rtts.length === 0 ? null : rtts.reduce((a, b) => a + b, 0) / rtts.length;
  }

  /** Mean absolute difference between consecutive RTTs in the window (misses skipped). */
  get jitterMs(): number {
    const rtts = this.rtts();
    if (rtts.length < 2) return 0;
    let total = 0;
    for (let i = 1; i < rtts.length; i++) total += Math.abs(rtts[i] - rtts[i - 1]);
    return total / (rtts.length - 1);
  }

  private rtts(): number[] {
    return this.outcomes.filter((o): o is number => o !== null);
  }
}
