import ipaddr from 'ipaddr.js';

export interface FailureLimitOptions {
  /** Failures an address may make in a burst before it is refused outright. */
  burst: number;
  /** Failures forgiven per minute once the burst is spent. */
  perMinute: number;
  /** Addresses tracked at most; the least recently failing ones are forgotten first. */
  maxAddresses?: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimitOptions = { burst: 10, perMinute: 10, maxAddresses: 10_000 };

/** A refused attempt of a blocked address is logged at most this often (with how many were refused). */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
  /** Attempts refused while blocked since the last logged one, and when that was. */
  refused: number;
  loggedAt: number | null;
}

/**
 * A token bucket of CONNECT failures per source address: guessing proofs costs the attacker its
 * address, while a device that gets its proof right from elsewhere is never affected. An IPv6
 * source counts by its /64, as one host may hold the whole prefix and rotate through it.
 */
export class FailureLimit {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: FailureLimitOptions = DEFAULT_FAILURE_LIMIT) {}

  /** Whether `address` has spent its failures and must be refused without checking its proof. */
  blocked(address: string, nowMs: number): boolean {
    const bucket = this.buckets.get(sourceKey(address));
    return bucket !== undefined && this.refill(bucket, nowMs) < 1;
  }

  fail(address: string, nowMs: number): void {
    const key = sourceKey(address);
    const bucket = this.buckets.get(key) ?? {
      tokens: this.options.burst,
      at: nowMs,
      refused: 0,
      loggedAt: null,
    };
    bucket.tokens = this.refill(bucket, nowMs) - 1;
    // Re-insert so Map order is least-recently-failing first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    const max = this.options.maxAddresses ?? 10_000;
    while (this.buckets.size > max) this.buckets.delete(this.buckets.keys().next().value as string);
  }

  /**
   * Counts an attempt refused because the address is blocked. Returns how many were refused since
   * the last one logged when this one should be logged (the first, then once a minute), else null:
   * a flood of attempts must not become a flood of log lines.
   */
  refused(address: string, nowMs: number): number | null {
    const bucket = this.buckets.get(sourceKey(address));
    if (!bucket) return 1;
    bucket.refused += 1;
    if (bucket.loggedAt !== null && nowMs - bucket.loggedAt < REFUSAL_LOG_INTERVAL_MS) return null;
    const count = bucket.refused;
    bucket.refused = 0;
    bucket.loggedAt = nowMs;
    return count;
  }

  private refill(bucket: Bucket, nowMs: number): number {
    const earned = ((nowMs - bucket.at) / 60_000) * this.options.perMinute;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + Math.max(0, earned));
    bucket.at = nowMs;
    return bucket.tokens;
  }
}

/** The address a limit counts: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64 prefix. */
export function sourceKey(address: string): string {
  // Every CONNECT passes here: a dotted IPv4 address needs no parsing.
  if (!address.includes(':')) return address;
  if (!ipaddr.IPv6.isValid(address) || ipaddr.IPv4.isValid(address)) return address;
  const v6 = ipaddr.IPv6.parse(address);
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const prefix = v6.parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}
