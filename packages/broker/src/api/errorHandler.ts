import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode, isSagError } from '../errors.js';
import type { ErrorBody } from './schemas/common.js';
import type { FieldError } from './validation.js';

export function errorBody(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorBody {
  return { error: { code, message, details } };
}

function send(reply: FastifyReply, code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return reply.code(ERROR_CODES[code].status).send(errorBody(code, message, details));
}

/**
 * The one place an error becomes an HTTP answer: domain errors keep their code and status, schema
 * violations name the field, and anything unexpected is logged and answered without internals.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isSagError(error)) {
      if (error.code === 'INTERNAL') request.log.error({ err: error }, 'internal error');
      return send(reply, error.code, error.message, error.details);
    }
    if (error.validation) {
      const part = error.validationContext ?? 'request';
      const fields = (error.validation as unknown as FieldError[]).map((e) => ({
        field: `${part}${e.instancePath}`,
        message: e.message,
      }));
      const message = fields.map((f) => `${f.field} ${f.message}`).join('; ');
      return send(reply, 'VALIDATION', message, { errors: fields });
    }
    const status = error.statusCode ?? 500;
    if (status === 429) return send(reply, 'RATE_LIMITED', error.message);
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, wrong content type) are safe to show.
      return send(reply, 'VALIDATION', clientErrorMessage(error), { reason: error.code ?? 'BAD_REQUEST' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(
      reply,
      'INTERNAL',
      `unexpected failure handling ${request.method} ${request.url}; see the broker log`,
    );
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}

function clientErrorMessage(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported Content-Type: send application/json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'body is empty but Content-Type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'body is not valid JSON';
    default:
      return error.message;
  }
}
