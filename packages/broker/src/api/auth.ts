import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { SagError } from '../errors.js';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>`. Both sides are hashed first so the constant-time
 * comparison always runs on equal-length buffers and the token's length does not leak either.
 * A callback hook rather than an async one: it runs on every request, and needs no promise.
 */
export function bearerAuth(token: string): onRequestHookHandler {
  if (token.length === 0) throw new Error('the API token must not be empty');
  const expected = digest(token);
  return (request, _reply, done) => {
    const header = request.headers.authorization;
    if (header === undefined) {
      done(
        new SagError('UNAUTHORIZED', 'missing Authorization header; send "Authorization: Bearer <token>"'),
      );
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      done(new SagError('UNAUTHORIZED', 'wrong bearer token'));
      return;
    }
    done();
  };
}
