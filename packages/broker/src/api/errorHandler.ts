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

/** Longest path parameter the router takes, percent-encoded; ids are at most 128 characters. */
export const MAX_PARAM_LENGTH = 2048;

/**
 * Errors the router raises before any route or hook runs (a broken percent-escape, an over-long
 * path parameter): answered in the error format like every other 4xx, instead of Fastify's own.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const path = error.message.match(/^'(.*)'/s)?.[1] ?? '';
  const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `a path parameter of ${shown} is longer than ${MAX_PARAM_LENGTH} characters`
      : error.code === 'FST_ERR_BAD_URL'
        ? `path ${shown} is not valid percent-encoded UTF-8`
        : clientErrorMessage(error);
  send(reply, 'VALIDATION', message, { reason: error.code ?? 'BAD_REQUEST' });
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
