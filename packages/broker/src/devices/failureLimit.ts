export interface FailureLimitOptions {
  /** Failures an address may make in a burst before it is refused outright. */
  burst: number;
  /** Failures forgiven per minute once the burst is spent. */
  perMinute: number;
  /** Addresses tracked at most; the least recently failing ones are forgotten first. */
  maxAddresses?: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimitOptions = { burst: 10, perMinute: 10, maxAddresses: 10_000 };

/**
 * A token bucket of CONNECT failures per source address: guessing proofs costs the attacker its
 * address, while a device that gets its proof right from elsewhere is never affected.
 */
export class FailureLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly options: FailureLimitOptions = DEFAULT_FAILURE_LIMIT) {}

  /** Whether `address` has spent its failures and must be refused without checking its proof. */
  blocked(address: string, nowMs: number): boolean {
    const bucket = this.buckets.get(address);
    return bucket !== undefined && this.refill(bucket, nowMs) < 1;
  }

  fail(address: string, nowMs: number): void {
    const bucket = this.buckets.get(address) ?? { tokens: this.options.burst, at: nowMs };
    bucket.tokens = this.refill(bucket, nowMs) - 1;
    // Re-insert so Map order is least-recently-failing first.
    this.buckets.delete(address);
    this.buckets.set(address, bucket);
    const max = this.options.maxAddresses ?? 10_000;
    while (this.buckets.size > max) this.buckets.delete(this.buckets.keys().next().value as string);
  }

  private refill(bucket: { tokens: number; at: number }, nowMs: number): number {
    const earned = ((nowMs - bucket.at) / 60_000) * this.options.perMinute;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + Math.max(0, earned));
    bucket.at = nowMs;
    return bucket.tokens;
  }
}
