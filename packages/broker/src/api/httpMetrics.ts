import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

/** Gets a metric already in the registry (a second API on the same registry) or registers it. */
function reuse<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * Counts requests and times them by route pattern (never the raw URL, so ids do not explode the
 * label set) and status code.
 */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = reuse(
    registry,
    'opensag_http_requests_total',
    () =>
      new Counter({
        name: 'opensag_http_requests_total',
        help: 'HTTP requests answered, by method, route pattern and status',
        labelNames,
        registers: [registry],
      }),
  );
  const duration = reuse(
    registry,
    'opensag_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'opensag_http_request_duration_seconds',
        help: 'HTTP request duration, by method, route pattern and status',
        labelNames,
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
        registers: [registry],
      }),
  );

  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
}
