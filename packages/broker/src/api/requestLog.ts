import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/**
 * One debug line per answered request (method, URL, status, time). Fastify's own request logging
 * writes two info lines per request, which at thousands of reads a second costs more than the
 * reads; at info level and above no hook is installed at all.
 */
export function logRequests(app: FastifyInstance, logger: FastifyBaseLogger): void {
  if (logger.level !== 'debug' && logger.level !== 'trace') return;
  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug(
      {
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request answered',
    );
    done();
  });
}
