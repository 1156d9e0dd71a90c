import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { SagError } from '../errors.js';

/**
 * JSON bodies, parsed prototype-safely (secure-json-parse, as Fastify itself does), with two
 * differences operators expect: an empty body (curl -X POST .../activate with a JSON
 * Content-Type) is no body at all, and a `__proto__` or `constructor.prototype` key is named in
 * the error instead of a generic "invalid JSON".
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, secureJson.parse(text, null, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const message = /prototype/.test((err as Error).message)
        ? 'body contains a forbidden key ("__proto__" or "constructor.prototype")'
        : `body is not valid JSON: ${(err as Error).message}`;
      done(new SagError('VALIDATION', message), undefined);
    }
  });
}
