/** An opaque timer handle, as returned by `Clock.setTimeout`. */
export type TimerHandle = { readonly timer: unknown };

/** Time and timers, injected so keepalive tests run on fake time. */
export interface Clock {
  /** Milliseconds since the epoch; may have a fractional part. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock. `now` is monotonic within the process, so RTTs never go negative. */
export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => ({ timer: setTimeout(callback, ms) }),
  clearTimeout: (handle) => clearTimeout(handle.timer as ReturnType<typeof setTimeout>),
};
