/**
 * When to try the broker again. Capped exponential backoff with full jitter: attempt n waits a
 * uniformly random time in [0, min(cap, base·2^n)], so a fleet that lost the broker together does
 * not come back together. MQTT.js's own reconnect is a fixed interval, hence this.
 *
 * A refused connection (nothing listening: the broker is restarting) is capped lower than other
 * failures. A refusal costs the broker nothing, and a restart takes seconds, so devices should
 * not sit out 30 s after it is back; a broker that accepts and then times out or resets is
 * overloaded, and those failures climb to the full cap so the fleet backs away from it.
 */
export interface BackoffOptions {
  /** The ceiling of the first wait. */
  baseMs?: number;
  /** No wait is longer than this. */
  capMs?: number;
  /** No wait after a refused connection is longer than this (between `baseMs` and `capMs`). */
  refusedCapMs?: number;
  /** A value in [0, 1); injectable so tests can check the distribution. */
  random?: () => number;
}

/** Why the last attempt failed: `refused` when nothing listened (ECONNREFUSED), else `failed`. */
export type AttemptFailure = 'refused' | 'failed';

export const DEFAULT_BACKOFF = { baseMs: 500, capMs: 30_000, refusedCapMs: 5000 } as const;

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly refusedCapMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
    // The default follows a custom base and cap; an explicit one is checked below.
    this.refusedCapMs =
      options.refusedCapMs ?? Math.min(this.capMs, Math.max(this.baseMs, DEFAULT_BACKOFF.refusedCapMs));
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= capMs (got ${this.baseMs} and ${this.capMs})`);
    }
    if (!(this.refusedCapMs >= this.baseMs) || !(this.refusedCapMs <= this.capMs)) {
      throw new RangeError(
        `backoff needs baseMs <= refusedCapMs <= capMs (got ${this.baseMs}, ${this.refusedCapMs} and ${this.capMs})`,
      );
    }
  }

  /** How many waits were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The upper bound of the wait the next call to `next(failure)` returns. */
  ceiling(failure: AttemptFailure = 'failed'): number {
    const cap = failure === 'refused' ? this.refusedCapMs : this.capMs;
    // 2^n overflows to Infinity long after it passed the cap; min() keeps it finite.
    return Math.min(cap, this.baseMs * 2 ** this.attempt);
  }

  /** The wait before the next attempt, in whole milliseconds. */
  next(failure: AttemptFailure = 'failed'): number {
    const ceiling = this.ceiling(failure);
    this.attempt++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.min(ceiling, Math.floor(r * (ceiling + 1)));
  }

  /** A connection held long enough counts as healthy: the next outage starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }
}
