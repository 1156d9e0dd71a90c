import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { Registry } from 'prom-client';
import type { ControlPlane } from '../controlPlane.js';
import { accessPointsApi } from './accessPoints.js';
import { accessTestsApi } from './accessTests.js';
import { aclsApi } from './acls.js';
import { areasApi } from './areas.js';
import { bearerAuth } from './auth.js';
import { ccnsApi } from './ccns.js';
import { censApi } from './cens.js';
import { registerDocs } from './docs.js';
import { type Durability, holdAnswersUntilDurable } from './durability.js';
import { answerFrameworkError, installErrorHandlers, MAX_PARAM_LENGTH } from './errorHandler.js';
import { eventsApi } from './events.js';
import { gatewaysApi } from './gateways.js';
import { instrumentHttp } from './httpMetrics.js';
import { instancesApi } from './instances.js';
import { installJsonBodyParser } from './jsonBody.js';
import { type ProbesApiOptions, probesApi } from './probes.js';
import { type RateLimitOptions, rateLimit } from './rateLimit.js';
import { logRequests } from './requestLog.js';
import { ErrorBody } from './schemas/common.js';
import { securityGroupsApi } from './securityGroups.js';
import { systemApi } from './system.js';
import { validatorCompiler } from './validation.js';
import { vpcsApi } from './vpcs.js';

export interface ApiOptions {
  controlPlane: ControlPlane;
  /** The bearer token every /v1 route requires. */
  token: string;
  logger: FastifyBaseLogger;
  /** Where HTTP metrics go and what /metrics serves; a fresh registry when omitted. */
  metricsRegistry?: Registry;
  /** Per client address; default 1200 requests a minute. `false` turns it off. */
  rateLimit?: RateLimitOptions | false;
  /** Largest accepted request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Shown in the OpenAPI document. */
  version?: string;
  /** Asks devices for live probes; without it the probe route is absent. */
  deviceLink?: ProbesApiOptions['deviceLink'];
  /** The store's group commit: /v1 answers wait for it. Omit when every commit syncs itself. */
  durability?: Durability;
  /** Serve HTTPS instead of HTTP (certificate, key, minimum version); HTTP when omitted. */
  https?: import('node:https').ServerOptions;
}

const RESOURCES = [
  areasApi,
  accessPointsApi,
  gatewaysApi,
  ccnsApi,
  censApi,
  vpcsApi,
  instancesApi,
  securityGroupsApi,
  aclsApi,
  accessTestsApi,
  eventsApi,
];

/**
 * The broker's HTTP API, ready to `listen()` or `inject()`. Call `await app.ready()` (or listen)
 * before use: plugins register asynchronously.
 */
export function buildApi(options: ApiOptions): FastifyInstance {
  const { controlPlane, token, logger } = options;
  const registry = options.metricsRegistry ?? new Registry();
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    ...(options.https ? { https: options.https } : {}),
    // Past Fastify's default of 100, so a long id reaches the schema and its named limit.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: answerFrameworkError,
    // Two log lines per request cost more than answering a read; mutations are logged by the
    // control plane, failures by the error handler, and every request at debug level.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.addSchema(ErrorBody);
  installJsonBodyParser(app);
  installErrorHandlers(app);
  instrumentHttp(app, registry);
  logRequests(app, logger);

  registerDocs(app, options.version ?? '1');
  app.register(systemApi, { registry });
  app.register(
    async (v1) => {
      if (options.rateLimit !== false) {
        v1.addHook('onRequest', rateLimit(options.rateLimit ?? { max: 1200, windowMs: 60_000 }));
      }
      v1.addHook('onRequest', bearerAuth(token));
      if (options.durability) holdAnswersUntilDurable(v1, options.durability);
      for (const resource of RESOURCES) await v1.register(resource, { controlPlane });
      if (options.deviceLink) await v1.register(probesApi, { deviceLink: options.deviceLink });
    },
    { prefix: '/v1' },
  );
  return app as unknown as FastifyInstance;
}
