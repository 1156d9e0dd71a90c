import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi, TOKEN } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

/** Every route of SPEC §4 except probes, as OpenAPI paths. */
const SPEC_ROUTES = [
  'get /v1/areas',
  'post /v1/gateways',
  'get /v1/gateways',
  'get /v1/gateways/{id}',
  'patch /v1/gateways/{id}',
  'delete /v1/gateways/{id}',
  'post /v1/gateways/{id}/activate',
  'post /v1/gateways/{id}/renew',
  'put /v1/gateways/{id}/device',
  'delete /v1/gateways/{id}/device',
  'put /v1/gateways/{id}/ports',
  'put /v1/gateways/{id}/network',
  'put /v1/gateways/{id}/acl',
  'delete /v1/gateways/{id}/acl',
  'get /v1/gateways/{id}/status',
  'get /v1/gateways/{id}/config',
  'post /v1/ccns',
  'get /v1/ccns',
  'get /v1/ccns/{id}',
  'delete /v1/ccns/{id}',
  'post /v1/ccns/{id}/gateways',
  'delete /v1/ccns/{id}/gateways/{gatewayId}',
  'post /v1/cens',
  'get /v1/cens',
  'get /v1/cens/{id}',
  'delete /v1/cens/{id}',
  'post /v1/cens/{id}/attachments',
  'delete /v1/cens/{id}/attachments/{instanceId}',
  'get /v1/cens/{id}/routes',
  'put /v1/cens/{id}/bandwidth-packages',
  'post /v1/vpcs',
  'get /v1/vpcs',
  'get /v1/vpcs/{id}',
  'delete /v1/vpcs/{id}',
  'post /v1/instances',
  'get /v1/instances',
  'get /v1/instances/{id}',
  'delete /v1/instances/{id}',
  'post /v1/security-groups',
  'get /v1/security-groups',
  'get /v1/security-groups/{id}',
  'delete /v1/security-groups/{id}',
  'post /v1/security-groups/{id}/rules',
  'delete /v1/security-groups/{id}/rules/{ruleId}',
  'post /v1/acls',
  'get /v1/acls',
  'get /v1/acls/{id}',
  'delete /v1/acls/{id}',
  'post /v1/acls/{id}/rules',
  'patch /v1/acls/{id}/rules/{ruleId}',
  'delete /v1/acls/{id}/rules/{ruleId}',
  'post /v1/access-tests',
  'get /v1/events',
];

describe('OpenAPI document', () => {
  it('is OpenAPI 3 with a bearer scheme required by default and lists every route of the spec', async () => {
    const res = await api.call('GET', '/docs/json', undefined, null);
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBeTruthy();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`),
    );
    for (const route of SPEC_ROUTES) expect(listed).toContain(route);
  });

  it('resolves every $ref to a component, and the error body is one shared component', async () => {
    const doc = (await api.call('GET', '/docs/json', undefined, null)).body;
    const refs = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref') refs.add(value as string);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs).toContain('#/components/schemas/ErrorBody');
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
    expect(doc.components.schemas.ErrorBody.properties.error.required).toEqual([
      'code',
      'message',
      'details',
    ]);
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, { parameters?: { in: string; required: boolean }[] }>>,
    )) {
      for (const op of Object.values(ops)) {
        for (const param of op.parameters ?? [])
          if (param.in === 'path') expect(param.required, path).toBe(true);
      }
    }
  });

  it('documents each operation with a tag, a summary, its success answer and the error body', async () => {
    const doc = (await api.call('GET', '/docs/json', undefined, null)).body;
    const tagNames = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    for (const route of SPEC_ROUTES) {
      const [method, path] = route.split(' ');
      const op = doc.paths[path][method];
      expect(op.summary, route).toBeTruthy();
      expect(tagNames.has(op.tags[0]), route).toBe(true);
      expect(
        Object.keys(op.responses).some((code) => /^2\d\d$/.test(code)),
        route,
      ).toBe(true);
      expect(op.responses['4XX'], route).toBeDefined();
      for (const param of (path.match(/\{(\w+)\}/g) ?? []).map((p) => p.slice(1, -1))) {
        expect(
          op.parameters.map((p: { name: string }) => p.name),
          route,
        ).toContain(param);
      }
    }
    const createGateway = doc.paths['/v1/gateways'].post;
    const body = createGateway.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(
      expect.arrayContaining(['name', 'area', 'spec', 'bandwidthMbps', 'subscriptionMonths']),
    );
    expect(body.additionalProperties).toBe(false);
  });

  it('marks /healthz and /metrics as needing no token, and serves Swagger UI at /docs', async () => {
    const doc = (await api.call('GET', '/docs/json', undefined, null)).body;
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([]);
    expect(Object.keys(doc.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
    expect(doc.info.description).toContain('/metrics');
    const ui = await api.call('GET', '/docs/', undefined, null);
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('health and metrics', () => {
  it('answers /healthz without a token', async () => {
    const res = await api.call('GET', '/healthz', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('serves Prometheus text with request counts by route pattern and status', async () => {
    await api.get('/v1/areas');
    await api.get('/v1/gateways/sag-missing');
    const res = await api.call('GET', '/metrics', undefined, null);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain('# TYPE opensag_http_requests_total counter');
    expect(res.text).toMatch(
      /opensag_http_requests_total\{method="GET",route="\/v1\/areas",status="200"\} 1/,
    );
    expect(res.text).toMatch(
      /opensag_http_requests_total\{method="GET",route="\/v1\/gateways\/:id",status="404"\} 1/,
    );
    expect(res.text).toContain('opensag_http_request_duration_seconds_bucket');
  });
});

describe('authentication', () => {
  it('answers 401 UNAUTHORIZED on every /v1 route without a token or with a wrong one', async () => {
    for (const route of SPEC_ROUTES) {
      const [method, path] = route.split(' ');
      const url = path.replace(/\{(\w+)\}/g, 'x-1');
      for (const token of [null, 'not-the-token']) {
        const res = await api.call(
          method.toUpperCase() as 'GET',
          url,
          method === 'get' ? undefined : {},
          token,
        );
        expect(res.status, `${route} with token ${token}`).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('refuses a /v1 request without a token with 401 UNAUTHORIZED', async () => {
    const res = await api.call('GET', '/v1/gateways', undefined, null);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
    expect(res.body.error.message).toContain('Authorization');
  });

  it('refuses a wrong token, a token of another length, and a non-Bearer scheme', async () => {
    for (const token of [`${TOKEN.slice(0, -1)}x`, 'short', `${TOKEN}extra`]) {
      const res = await api.call('GET', '/v1/gateways', undefined, token);
      expect(res.status, token).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHORIZED');
    }
    const basic = await api.app.inject({
      method: 'GET',
      url: '/v1/areas',
      headers: { authorization: `Basic ${TOKEN}` },
    });
    expect(basic.statusCode).toBe(401);
  });

  it('checks the token before the body, so an anonymous caller learns nothing from validation', async () => {
    const res = await api.call('POST', '/v1/gateways', { name: 1 }, null);
    expect(res.status).toBe(401);
  });

  it('accepts the right token', async () => {
    expect((await api.get('/v1/gateways')).status).toBe(200);
  });
});

describe('error format', () => {
  it('answers unknown routes with 404 NOT_FOUND in the error format', async () => {
    const res = await api.get('/v1/nothing-here?x=1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'NOT_FOUND', message: 'no route GET /v1/nothing-here', details: {} },
    });
  });

  it('answers a broken percent-escape or an over-long path parameter with 400 VALIDATION in the error format', async () => {
    const badEscape = await api.get('/v1/gateways/%E2%82/status');
    expect(badEscape.status).toBe(400);
    expect(badEscape.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'path /v1/gateways/%E2%82/status is not valid percent-encoded UTF-8',
      details: { reason: 'FST_ERR_BAD_URL' },
    });
    const huge = await api.get(`/v1/gateways/${'a'.repeat(5000)}`);
    expect(huge.status).toBe(400);
    expect(huge.body.error.code).toBe('VALIDATION');
    expect(huge.body.error.message).toMatch(
      /^a path parameter of \/v1\/gateways\/a+… is longer than 2048 characters$/,
    );
    // Up to the router's limit, the schema answers and names the field and its limit.
    const long = await api.get(`/v1/gateways/${'a'.repeat(129)}`);
    expect(long.body.error.message).toBe('params/id must NOT have more than 128 characters');
  });

  it('names the field and the expectation in a validation error', async () => {
    const res = await api.post('/v1/gateways', {
      name: 'Hangzhou branch',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2.5,
      subscriptionMonths: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION');
    expect(res.body.error.message).toBe('body/bandwidthMbps must be integer');
    expect(res.body.error.details.errors).toEqual([
      { field: 'body/bandwidthMbps', message: 'must be integer' },
    ]);
  });

  it('does not take a string for a number in a body', async () => {
    const res = await api.post('/v1/gateways', {
      name: 'Hangzhou branch',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: '2',
      subscriptionMonths: 1,
    });
    expect(res.body.error.message).toBe('body/bandwidthMbps must be integer');
  });

  it('names missing and unknown properties and lists the allowed values of an enum', async () => {
    const res = await api.post('/v1/gateways', {
      name: 'Hangzhou branch',
      area: 'china-mainland',
      spec: 'sag-9',
      colour: 1,
    });
    expect(res.status).toBe(400);
    const message: string = res.body.error.message;
    expect(message).toContain('body/bandwidthMbps is required');
    expect(message).toContain('body/subscriptionMonths is required');
    expect(message).toContain('body/colour is not an allowed property');
    expect(message).toContain('body/spec must be one of "sag-100wm", "sag-1000", "sag-vcpe"');
  });

  it('validates query strings, converting numbers that arrive as text', async () => {
    const bad = await api.get('/v1/vpcs?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('querystring/limit must be >= 1');
    const text = await api.get('/v1/vpcs?limit=ten');
    expect(text.body.error.message).toBe('querystring/limit must be integer');
    expect((await api.get('/v1/vpcs?limit=3')).status).toBe(200);
  });

  it('answers malformed JSON with 400 VALIDATION', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/vpcs',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{"name": "Shanghai VPC",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION');
    expect(res.json().error.message).toMatch(/^body is not valid JSON: /);
  });

  it('takes an empty body with a JSON Content-Type as no body (curl -X POST .../activate)', async () => {
    const gateway = await api.shippedGateway();
    const res = await api.app.inject({
      method: 'POST',
      url: `/v1/gateways/${gateway.id}/activate`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().lifecycle).toBe('active');
  });

  it('names a __proto__ key in the body instead of calling it bad JSON, and pollutes nothing', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/vpcs',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload:
        '{"name": "Shanghai VPC", "region": "cn-shanghai", "cidrBlocks": ["10.1.0.0/16"], "__proto__": {"polluted": 1}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'VALIDATION',
      message: 'body contains a forbidden key ("__proto__" or "constructor.prototype")',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers an over-large body with 400 VALIDATION', async () => {
    const small = await startTestApi({ bodyLimit: 512 });
    try {
      const res = await small.post('/v1/vpcs', {
        name: 'x'.repeat(1000),
        region: 'cn-shanghai',
        cidrBlocks: [],
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'VALIDATION', message: 'request body is too large' });
    } finally {
      await small.close();
    }
  });

  it('answers an unexpected failure with 500 INTERNAL without leaking its message', async () => {
    api.controlPlane.areas = () => {
      throw new Error('database file /secret/path is corrupt');
    };
    const res = await api.get('/v1/areas');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(res.text).not.toContain('/secret/path');
  });
});

describe('rate limit', () => {
  it('answers 429 RATE_LIMITED with Retry-After once a client exceeds its budget', async () => {
    const limited = await startTestApi({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await limited.get('/v1/areas')).status).toBe(200);
      const res = await limited.get('/v1/areas');
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect((await limited.call('GET', '/healthz', undefined, null)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
