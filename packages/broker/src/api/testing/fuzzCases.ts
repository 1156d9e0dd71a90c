import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { ERROR_CODES } from '../../errors.js';
import { domainHint } from './domainHints.js';
import { type FuzzApi, IdRef, idRef, type Kind, kindsOfParam, TOKEN } from './fuzzWorld.js';
import type { ResponseChecker, Route } from './openapiRoutes.js';
import { HOSTILE_KEYS, HOSTILE_STRINGS, hostileValue, nearValue, validValue } from './schemaArbitrary.js';

/**
 * One generated request per case, for one route of the OpenAPI document: its path parameters,
 * query string and body, each valid per the schema, one or two edits away, or garbage.
 */

export type Category = 'valid' | 'near' | 'garbage';

type PathValue = IdRef | { text: string; raw: boolean };
type QueryPart = { pairs: [string, unknown][] } | { raw: string };
type BodyPart = { json: unknown } | { raw: string; contentType: string | null } | null;

export interface Case {
  category: Category;
  path: Record<string, PathValue>;
  query: QueryPart;
  body: BodyPart;
}

/** Path parameter values: mostly resources (live, deleted, of other kinds), then text of every sort. */
function pathValue(route: Route, name: string, category: Category): fc.Arbitrary<PathValue> {
  const ref = idRef(kindsOfParam(route.path, name));
  if (category === 'valid') return ref;
  const text = fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  return fc.oneof(
    { weight: 2, arbitrary: ref },
    { weight: 3, arbitrary: text.map((t) => ({ text: t, raw: false })) },
    // Sent as is: stray percent signs, dot segments, encoded slashes and NULs the router must survive.
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('%', '%zz', '%C0%AF', '%2F', '%00', '..', '.', '%E2%82', '*')
        .map((t) => ({ text: t, raw: true })),
    },
  );
}

function queryPart(route: Route, category: Category): fc.Arbitrary<QueryPart> {
  const valid = fc
    .tuple(
      ...route.queryParams.map((p) =>
        fc.option(validValue(p.schema, domainHint, p.name), { nil: undefined }),
      ),
    )
    .map((values) => ({
      pairs: values.flatMap((v, i): [string, unknown][] =>
        v === undefined ? [] : [[route.queryParams[i].name, v]],
      ),
    }));
  if (category === 'valid') return valid;
  const names = [...route.queryParams.map((p) => p.name), ...HOSTILE_KEYS, 'a[b]', 'limit', 'cursor'];
  const hostilePairs = fc.array(fc.tuple(fc.constantFrom(...names), hostileValue), {
    minLength: 1,
    maxLength: 4,
  });
  return fc.oneof(
    valid,
    hostilePairs.map((pairs) => ({ pairs })),
    fc.tuple(valid, hostilePairs).map(([v, pairs]) => ({ pairs: [...v.pairs, ...pairs] })),
    fc
      .constantFrom(
        '%',
        'limit=%zz',
        '&&&',
        '=x',
        'limit=1&limit=2',
        '__proto__[polluted]=1',
        'constructor[prototype][x]=1',
        'cursor='.padEnd(3000, 'A'),
      )
      .map((raw) => ({ raw })),
  );
}

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/jsonx',
  '',
];
const BROKEN_JSON = [
  '{',
  '{"a":',
  '[1,2',
  '{"a":1}}',
  'nul',
  '\u0000',
  ' ',
  '"\\ud800"',
  '{"a":1,"a":2}',
  '1e999',
];

const garbageBody: fc.Arbitrary<BodyPart> = fc.oneof(
  hostileValue.map((json) => ({ json })),
  fc.string({ unit: 'binary', maxLength: 60 }).map((raw) => ({ raw, contentType: 'application/json' })),
  fc.constantFrom(...BROKEN_JSON).map((raw) => ({ raw, contentType: 'application/json' })),
  fc
    .constantFrom(
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '{"a":{"__proto__":{"polluted":1}}}',
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `"${'a'.repeat(1_100_000)}"`,
    )
    .map((raw) => ({ raw, contentType: 'application/json' })),
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(...CONTENT_TYPES)).map(([v, contentType]) => ({
    raw: JSON.stringify(v),
    contentType,
  })),
);

function bodyPart(route: Route, category: Category): fc.Arbitrary<BodyPart> {
  if (!route.body)
    return category === 'garbage' ? fc.oneof(fc.constant(null), garbageBody) : fc.constant(null);
  if (category === 'valid') return validValue(route.body, domainHint).map((json) => ({ json }));
  if (category === 'near') return nearValue(route.body, domainHint).map((json) => ({ json }));
  return garbageBody;
}

/** Cases for a route: valid, near-valid (one part edited) and garbage, about 4:4:2; or valid ones only. */
export function caseOf(route: Route, only?: 'valid'): fc.Arbitrary<Case> {
  const of = (category: Category, parts: { path: Category; query: Category; body: Category }) =>
    fc
      .record({
        path: fc.record(
          Object.fromEntries(route.pathParams.map((p) => [p.name, pathValue(route, p.name, parts.path)])),
        ),
        query: queryPart(route, parts.query),
        body: bodyPart(route, parts.body),
      })
      .map((c) => ({ category, ...c }));
  const valid = { path: 'valid', query: 'valid', body: 'valid' } as const;
  if (only) return of('valid', valid);
  const nearOne = fc.constantFrom<keyof typeof valid>('path', 'query', 'body');
  return fc.oneof(
    { weight: 4, arbitrary: of('valid', valid) },
    { weight: 4, arbitrary: nearOne.chain((part) => of('near', { ...valid, [part]: 'near' })) },
    { weight: 2, arbitrary: of('garbage', { path: 'near', query: 'near', body: 'garbage' }) },
  );
}

/** Percent-encodes text, a lone surrogate sent as U+FFFD (as a browser would send it). */
const pct = (text: string) => encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));

const resolved = (api: FuzzApi, value: unknown): unknown =>
  value instanceof IdRef ? api.resolve(value) : value;

export interface Request {
  url: string;
  /** The resolved path parameters, by name. */
  params: Record<string, string>;
  options: InjectOptions;
}

export function requestOf(api: FuzzApi, route: Route, c: Case): Request {
  const params: Record<string, string> = {};
  let url = route.path;
  for (const [name, value] of Object.entries(c.path)) {
    const text = value instanceof IdRef ? api.resolve(value) : value.text;
    params[name] = text;
    const onWire = value instanceof IdRef || !value.raw ? pct(text) : text;
    url = url.replace(`{${name}}`, onWire);
  }
  const query =
    'raw' in c.query
      ? c.query.raw
      : c.query.pairs.map(([k, v]) => `${pct(k)}=${pct(String(resolved(api, v) ?? ''))}`).join('&');
  if (query) url += `?${query}`;
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  let payload: string | undefined;
  if (c.body && 'json' in c.body) {
    payload = JSON.stringify(c.body.json, (_key, v) => resolved(api, v));
    if (payload !== undefined) headers['content-type'] = 'application/json';
  } else if (c.body) {
    payload = c.body.raw;
    if (c.body.contentType) headers['content-type'] = c.body.contentType;
  }
  return { url, params, options: { method: route.method as InjectOptions['method'], url, headers, payload } };
}

const prototypeKeys = Reflect.ownKeys(Object.prototype);
const prototypeValues = prototypeKeys.map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value);

/** What differs on Object.prototype from when this module loaded; null when nothing. */
export function prototypeProblem(): string | null {
  const keys = Reflect.ownKeys(Object.prototype);
  const added = keys.filter((k) => !prototypeKeys.includes(k));
  if (added.length > 0) return `Object.prototype gained ${added.map(String).join(', ')}`;
  const changed = prototypeKeys.filter(
    (k, i) => Object.getOwnPropertyDescriptor(Object.prototype, k)?.value !== prototypeValues[i],
  );
  return changed.length > 0 ? `Object.prototype changed ${changed.map(String).join(', ')}` : null;
}

/** Everything wrong with one answer: a 5xx, an undeclared status, a schema mismatch, a code of another status. */
export function answerProblems(
  route: Route,
  checker: ResponseChecker,
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
): string[] {
  const problems: string[] = [];
  const answer = {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    body: res.body,
  };
  if (res.statusCode >= 500)
    problems.push(`${route.name} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
  const mismatch = checker.problem(route, answer);
  if (mismatch) problems.push(mismatch);
  if (res.statusCode >= 400 && !mismatch) {
    const code = JSON.parse(res.body).error.code as keyof typeof ERROR_CODES;
    if (ERROR_CODES[code].status !== res.statusCode) {
      problems.push(
        `${route.name} answered ${res.statusCode} with code ${code}, whose status is ${ERROR_CODES[code].status}`,
      );
    }
  }
  const polluted = prototypeProblem();
  if (polluted) problems.push(`${route.name}: ${polluted}`);
  return problems;
}

/** Keeps the pools in step with what a case created or deleted, so later cases find live resources. */
export function track(
  api: FuzzApi,
  route: Route,
  params: Record<string, string>,
  status: number,
  body: string,
): void {
  if (route.method === 'POST' && status === 201) {
    const created = route.path.endsWith('/rules')
      ? kindsOfParam(`${route.path}/{ruleId}`, 'ruleId')
      : kindsOfParam(`${route.path}/{id}`, 'id');
    if (created.length === 1) api.live.get(created[0])!.push(JSON.parse(body).id);
  }
  if (route.method !== 'DELETE' || status !== 204) return;
  const last = route.pathParams[route.pathParams.length - 1]?.name;
  const own = /\/\{id\}$/.test(route.path) || /\/rules\/\{ruleId\}$/.test(route.path);
  if (!last || !own) return;
  const kind: Kind = kindsOfParam(route.path, last)[0];
  const id = params[last];
  const live = api.live.get(kind)!;
  if (live.includes(id)) {
    live.splice(live.indexOf(id), 1);
    api.deleted.get(kind)!.push(id);
  }
}
