import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { REGIONS, SUBSCRIPTION_MONTHS } from '../domain/catalogue.js';
import { validName } from './testing/domainHints.js';
import { answerProblems, type Category, caseOf, requestOf, track } from './testing/fuzzCases.js';
import { type FuzzApi, startFuzzApi, TOKEN } from './testing/fuzzWorld.js';
import { ResponseChecker, type Route, routesOf } from './testing/openapiRoutes.js';

/**
 * Fuzzes every route of the OpenAPI document the server serves: generated path parameters, query
 * strings and bodies (valid, near-valid, garbage) must never get a 5xx, and every answer must have
 * a status the route declares and a body its schema accepts, with Object.prototype untouched.
 * FUZZ_SEED replays a run (the seed is in every failure message); FUZZ_RUNS sets the cases per route.
 */

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
/** Cases per route: about 60 routes, so some thousands in all, in well under a minute on 2 busy cores. FUZZ_RUNS digs deeper. */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 120);
/** Walks over all routes, of 40-80 steps each. */
const WALKS = Math.ceil(RUNS_PER_ROUTE / 4);
/** Per test, grown with FUZZ_RUNS: a test timed out would run on beside the next one, on the same API. */
const TIMEOUT = 20_000 * Math.max(1, RUNS_PER_ROUTE / 100);

// One API for the whole file (building one costs a few hundred ms), re-seeded before each route.
const api = await startFuzzApi();
const doc = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json();
const routes = routesOf(doc);
const checker = new ResponseChecker();

const counts = {
  cases: 0,
  valid: 0,
  near: 0,
  garbage: 0,
  walk: 0,
  auth: 0,
  lifecycle: 0,
  byStatus: new Map<number, number>(),
};
afterAll(async () => {
  await api.close();
  const statuses = [...counts.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
  console.log(
    `openapi fuzz (seed ${SEED}): ${routes.length} routes, ${counts.cases} generated cases ` +
      `(valid ${counts.valid}, near-valid ${counts.near}, garbage ${counts.garbage}), ` +
      `${counts.walk} walk steps, ${counts.auth} token cases, ${counts.lifecycle} lifecycle rounds; statuses ${statuses.join(' ')}`,
  );
});

async function fuzzRoute(api: FuzzApi, route: Route): Promise<string[]> {
  const problems = new Map<string, string>();
  await fc.assert(
    fc.asyncProperty(caseOf(route), async (c) => {
      const request = requestOf(api, route, c);
      const res = await api.app.inject(request.options);
      counts.cases++;
      counts[c.category satisfies Category]++;
      counts.byStatus.set(res.statusCode, (counts.byStatus.get(res.statusCode) ?? 0) + 1);
      for (const problem of answerProblems(route, checker, res)) {
        const shown = request.options.payload ? String(request.options.payload).slice(0, 200) : '(no body)';
        problems.set(
          problem.slice(0, 120),
          `${problem}\n    request: ${route.method} ${request.url.slice(0, 300)} ${shown}`,
        );
      }
      track(api, route, request.params, res.statusCode, res.body);
    }),
    { numRuns: RUNS_PER_ROUTE, seed: SEED },
  );
  return [...problems.values()];
}

describe('every route of the OpenAPI document, fuzzed', () => {
  it('the document lists the /v1 resources and the open system routes', () => {
    expect(routes.length).toBeGreaterThan(50);
    expect(routes.map((r) => r.name)).toContain('POST /v1/gateways/{id}/probes');
  });

  for (const route of routes) {
    it(
      `${route.name}: no 5xx, every answer declared and matching its schema`,
      async () => {
        await api.reseed();
        const problems = await fuzzRoute(api, route);
        expect(problems, `seed ${SEED}:\n${problems.join('\n')}`).toEqual([]);
      },
      TIMEOUT,
    );
  }

  it(
    'a walk over all routes, each step on the state the steps before left, answers as documented',
    async () => {
      // Valid requests mostly, so the walk gets deep: bound, attached, then deleted, then read again.
      const step = fc
        .constantFrom(...routes)
        .chain((route) =>
          fc
            .oneof({ weight: 4, arbitrary: caseOf(route, 'valid') }, { weight: 1, arbitrary: caseOf(route) })
            .map((c) => ({ route, c })),
        );
      const problems = new Map<string, string>();
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 40, maxLength: 80 }), async (walk) => {
          await api.reseed();
          for (const [i, { route, c }] of walk.entries()) {
            const request = requestOf(api, route, c);
            const res = await api.app.inject(request.options);
            counts.walk++;
            for (const problem of answerProblems(route, checker, res)) {
              const before = walk.slice(Math.max(0, i - 5), i).map((s) => s.route.name);
              problems.set(
                problem.slice(0, 120),
                `${problem}\n    request: ${request.url} after ${before.join(', ')}`,
              );
            }
            track(api, route, request.params, res.statusCode, res.body);
          }
        }),
        { numRuns: WALKS, seed: SEED },
      );
      expect([...problems.values()], `seed ${SEED}`).toEqual([]);
    },
    TIMEOUT,
  );
});

/** Authorization headers that must not pass: none, malformed, another scheme, near misses, random. */
const badAuthorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    TOKEN,
    `Basic ${TOKEN}`,
    `Token ${TOKEN}`,
    `Bearer ${TOKEN}x`,
    `Bearer x${TOKEN}`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `Bearer ${TOKEN.toUpperCase()}`,
    `Bearer ${TOKEN} ${TOKEN}`,
    `Bearer ${Buffer.from(TOKEN).toString('base64')}`,
    `Bearer "${TOKEN}"`,
  ),
  fc
    .stringMatching(/^[!-~]{1,100}$/)
    .filter((t) => t !== TOKEN)
    .map((t) => `Bearer ${t}`),
);

describe('the bearer token', () => {
  const guarded = routes.filter((r) => r.path.startsWith('/v1/'));

  it('is required by every /v1 route of the document and by no route outside /v1', () => {
    for (const route of routes) expect(route.secured, route.name).toBe(route.path.startsWith('/v1/'));
  });

  it('every /v1 route refuses a missing or wrong token with 401 and the error body, and changes nothing', async () => {
    await api.reseed();
    let commits = 0;
    api.controlPlane.onCommitted(() => commits++);
    const problems = new Set<string>();
    const attempt = fc.constantFrom(...guarded).chain((route) =>
      fc.record({
        route: fc.constant(route),
        c: caseOf(route, 'valid'),
        authorization: badAuthorization,
        head: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(attempt, async ({ route, c, authorization, head }) => {
        const { options } = requestOf(api, route, c);
        const headers = { ...(options.headers as Record<string, string>) };
        if (authorization === undefined) delete headers.authorization;
        else headers.authorization = authorization;
        // HEAD is answered by every GET route: it must be guarded as well.
        const method = head && route.method === 'GET' ? 'HEAD' : options.method;
        const res = await api.app.inject({ ...options, method, headers });
        counts.auth++;
        const what = `${method} ${route.path} with Authorization ${JSON.stringify(authorization)}`;
        if (res.statusCode !== 401) problems.add(`${what} answered ${res.statusCode}`);
        else if (method !== 'HEAD') {
          const mismatch = checker.problem(route, {
            status: 401,
            contentType: String(res.headers['content-type']),
            body: res.body,
          });
          if (mismatch) problems.add(mismatch);
          else if (res.json().error.code !== 'UNAUTHORIZED')
            problems.add(`${what} answered code ${res.json().error.code}`);
        }
      }),
      { numRuns: guarded.length * 10, seed: SEED },
    );
    expect([...problems], `seed ${SEED}`).toEqual([]);
    expect(commits, 'mutations committed without a valid token').toBe(0);
  });

  it('leaves every route outside /v1 open (health, metrics) and the docs too', async () => {
    const open = routes.filter((r) => !r.path.startsWith('/v1/'));
    expect(open.map((r) => r.name)).toEqual(expect.arrayContaining(['GET /healthz', 'GET /metrics']));
    for (const route of open) {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}`]) {
        const res = await api.app.inject({
          method: 'GET',
          url: route.path,
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode, `${route.name} with ${authorization}`).toBe(200);
        expect(
          checker.problem(route, {
            status: 200,
            contentType: String(res.headers['content-type']),
            body: res.body,
          }),
        ).toBeNull();
      }
    }
    expect((await api.app.inject({ method: 'GET', url: '/docs/json' })).json().openapi).toMatch(/^3\./);
    expect((await api.app.inject({ method: 'GET', url: '/docs/' })).body).toContain('swagger');
  });
});

const description = fc.option(
  fc.string({ maxLength: 256, unit: 'grapheme' }).filter((d) => d.length <= 256),
  { nil: undefined },
);
const specs = [
  ['sag-100wm', 2, 50],
  ['sag-1000', 10, 500],
  ['sag-vcpe', 10, 1000],
] as const;
const octet = fc.integer({ min: 1, max: 254 });

/** A body each create route accepts, by collection; ids come from the seeded fixtures. */
function createBodies(live: FuzzApi['live']): Record<string, fc.Arbitrary<Record<string, unknown>>> {
  const first = (kind: Parameters<FuzzApi['live']['get']>[0]) => live.get(kind)![0];
  return {
    '/v1/gateways': fc.constantFrom(...specs).chain(([spec, min, max]) =>
      fc.record(
        {
          name: validName,
          area: fc.constant('china-mainland'),
          spec: fc.constant(spec),
          bandwidthMbps: fc.integer({ min, max }),
          subscriptionMonths: fc.constantFrom(...SUBSCRIPTION_MONTHS),
          description,
        },
        { requiredKeys: ['name', 'area', 'spec', 'bandwidthMbps', 'subscriptionMonths'] },
      ),
    ),
    '/v1/ccns': fc.record(
      { name: validName, area: fc.constant('china-mainland'), description },
      { requiredKeys: ['name', 'area'] },
    ),
    '/v1/cens': fc.record({ name: validName, description }, { requiredKeys: ['name'] }),
    '/v1/vpcs': fc.record({
      name: validName,
      region: fc.constantFrom(...REGIONS),
      cidrBlocks: fc.tuple(octet, fc.integer({ min: 16, max: 28 })).map(([b, len]) => [`10.${b}.0.0/${len}`]),
    }),
    '/v1/instances': fc.record({
      name: validName,
      vpcId: fc.constant(first('vpc')),
      privateIp: fc.tuple(octet, octet).map(([c, d]) => `10.1.${c}.${d}`),
      securityGroupIds: fc.constant([first('securityGroup')]),
    }),
    '/v1/security-groups': fc.record({ name: validName, vpcId: fc.constant(first('vpc')) }),
    '/v1/acls': fc.record({ name: validName, description }, { requiredKeys: ['name'] }),
  };
}

/** A rule each rules route accepts (its priority is generated). */
const RULES: Record<string, Record<string, unknown>> = {
  '/v1/security-groups': {
    direction: 'ingress',
    policy: 'accept',
    protocol: 'tcp',
    portRange: '443/443',
    cidr: '172.16.0.0/16',
  },
  '/v1/acls': {
    direction: 'out',
    policy: 'accept',
    protocol: 'udp',
    sourceCidr: '172.16.0.0/16',
    sourcePortRange: '-1/-1',
    destCidr: '10.1.0.0/16',
    destPortRange: '53/53',
  },
};

describe('create → delete → get', () => {
  const byName = new Map(routes.map((r) => [r.name, r]));
  const deletable = routes
    .filter((r) => r.method === 'POST' && r.pathParams.length === 0)
    .map((r) => r.path)
    .filter((p) => byName.has(`GET ${p}/{id}`) && byName.has(`DELETE ${p}/{id}`));

  it('covers every resource of the document that can be created, read and deleted', () => {
    expect(deletable.sort()).toEqual(Object.keys(createBodies(api.live)).sort());
  });

  const ruleParents = routes
    .filter((r) => r.method === 'POST' && /^\/v1\/[^/]+\/\{id\}\/rules$/.test(r.path))
    .map((r) => r.path.replace('/{id}/rules', ''))
    .filter((p) => byName.has(`DELETE ${p}/{id}/rules/{ruleId}`));

  it('covers every resource with rules', () => {
    expect(ruleParents.sort()).toEqual(Object.keys(RULES).sort());
  });

  for (const parent of ruleParents) {
    it(`${parent}/{id}/rules: a deleted rule answers 404 to DELETE (and PATCH) and is gone from its parent`, async () => {
      await api.reseed();
      const parentId = api.live.get(parent === '/v1/acls' ? 'acl' : 'securityGroup')![1];
      const send = async (method: string, path: string, ruleId: string, body?: unknown) => {
        const res = await api.app.inject({
          method: method as 'GET',
          url: path.replace('{id}', parentId).replace('{ruleId}', ruleId),
          headers: { authorization: `Bearer ${TOKEN}` },
          ...(body === undefined ? {} : { payload: body as object }),
        });
        expect(answerProblems(byName.get(`${method} ${path}`)!, checker, res), `${method} ${path}`).toEqual(
          [],
        );
        return res;
      };
      const rule = `${parent}/{id}/rules/{ruleId}`;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 100 }), async (priority) => {
          counts.lifecycle++;
          const created = await send('POST', `${parent}/{id}/rules`, '', { ...RULES[parent], priority });
          expect(created.statusCode, created.body).toBe(201);
          const { id } = created.json();
          expect((await send('DELETE', rule, id)).statusCode).toBe(204);
          expect((await send('DELETE', rule, id)).statusCode).toBe(404);
          if (byName.has(`PATCH ${rule}`))
            expect((await send('PATCH', rule, id, { priority })).statusCode).toBe(404);
          const rules = (await send('GET', `${parent}/{id}`, '')).json().rules as { id: string }[];
          expect(rules.map((r) => r.id)).not.toContain(id);
        }),
        { numRuns: 12, seed: SEED },
      );
    });
  }

  for (const collection of deletable) {
    it(`${collection}: after DELETE, GET and DELETE answer 404, and neither it nor its sub-resources are found`, async () => {
      await api.reseed();
      const route = (method: string, path: string) => byName.get(`${method} ${path}`)!;
      const call = async (method: string, path: string, id: string, body?: unknown, query = '') => {
        const res = await api.app.inject({
          method: method as 'GET',
          url: path.replace('{id}', id) + query,
          headers: { authorization: `Bearer ${TOKEN}` },
          ...(body === undefined ? {} : { payload: body as object }),
        });
        const problems = answerProblems(route(method, path), checker, res);
        expect(problems, `${method} ${path} ${id}`).toEqual([]);
        return res;
      };
      const subReads = routes.filter(
        (r) => r.method === 'GET' && r.path.startsWith(`${collection}/{id}/`) && r.pathParams.length === 1,
      );
      await fc.assert(
        fc.asyncProperty(createBodies(api.live)[collection], async (body) => {
          counts.lifecycle++;
          const created = await call('POST', collection, '', body);
          expect(created.statusCode, created.body).toBe(201);
          const { id } = created.json();
          expect((await call('GET', `${collection}/{id}`, id)).json()).toEqual(created.json());
          expect((await call('DELETE', `${collection}/{id}`, id)).statusCode).toBe(204);
          const gone = await call('GET', `${collection}/{id}`, id);
          expect(gone.statusCode).toBe(404);
          expect(gone.json().error.code).toBe('NOT_FOUND');
          expect((await call('DELETE', `${collection}/{id}`, id)).statusCode).toBe(404);
          for (const sub of subReads)
            expect((await call('GET', sub.path, id)).statusCode, sub.name).toBe(404);
          const listed = await call('GET', collection, '', undefined, '?limit=500');
          expect(listed.json().items.map((i: { id: string }) => i.id)).not.toContain(id);
        }),
        { numRuns: 12, seed: SEED },
      );
    });
  }
});
