import type { onRequestHookHandler } from 'fastify';
import { SagError } from '../errors.js';

export interface RateLimitOptions {
  /** Requests allowed per client address per window. */
  max: number;
  windowMs: number;
}

/**
 * A fixed-window counter per client address: enough to stop a runaway script from starving
 * everyone else, without an external store.
 */
export function rateLimit({ max, windowMs }: RateLimitOptions, now = Date.now): onRequestHookHandler {
  let windowStart = now();
  let counts = new Map<string, number>();
  return (request, reply, done) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t;
      counts = new Map();
    }
    const count = (counts.get(request.ip) ?? 0) + 1;
    counts.set(request.ip, count);
    if (count <= max) {
      done();
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
    reply.header('retry-after', String(retryAfter));
    done(
      new SagError('RATE_LIMITED', `more than ${max} requests in ${windowMs / 1000} s from ${request.ip}`, {
        limit: max,
        windowMs,
        retryAfterSeconds: retryAfter,
      }),
    );
  };
}
