/**
 * When to try the broker again. Capped exponential backoff with full jitter: attempt n waits a
 * uniformly random time in [0, min(cap, base·2^n)], so a fleet that lost the broker together does
 * not come back together. MQTT.js's own reconnect is a fixed interval, hence this.
 */
export interface BackoffOptions {
  /** The ceiling of the first wait. */
  baseMs?: number;
  /** No wait is longer than this. */
  capMs?: number;
  /** A value in [0, 1); injectable so tests can check the distribution. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, capMs: 30_000 } as const;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= capMs (got ${this.baseMs} and ${this.capMs})`);
    }
  }

  /** How many waits were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The upper bound of the wait the next call to `next()` returns. */
  ceiling(): number {
    // 2^n overflows to Infinity long after it passed the cap; min() keeps it finite.
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
  }

  /** The wait before the next attempt, in whole milliseconds. */
  next(): number {
    const ceiling = this.ceiling();
    this.attempt++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.min(ceiling, Math.floor(r * (ceiling + 1)));
  }

  /** A connection held long enough counts as healthy: the next outage starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }
}
