import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { JsonSchema } from './schemaArbitrary.js';

/**
 * The routes of an OpenAPI 3 document as the server serves it, with $refs resolved, and a checker
 * that holds every answer to what the document declares for its route.
 */

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Route {
  method: string;
  /** The OpenAPI path, e.g. `/v1/gateways/{id}`. */
  path: string;
  /** `GET /v1/gateways/{id}`. */
  name: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: JsonSchema;
  /** Whether the route needs the bearer token (the document's security, per operation or global). */
  secured: boolean;
  /** Declared statuses (`200`, `4XX`) → the JSON schema of the body, or null for no body. */
  responses: Map<string, { schema: JsonSchema | null; mediaType: string | null }>;
}

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read as loose JSON
type Doc = any;

/** Replaces every `{"$ref": "#/components/schemas/X"}` by the component itself (the document has no cycles). */
export function resolveRefs(node: unknown, doc: Doc): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, doc));
  if (node === null || typeof node !== 'object') return node;
  const ref = (node as { $ref?: string }).$ref;
  if (typeof ref === 'string') {
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((at: Doc, part) => at?.[part], doc);
    if (target === undefined) throw new Error(`unresolved $ref ${ref}`);
    return resolveRefs(target, doc);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveRefs(v, doc)]));
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function routesOf(doc: Doc): Route[] {
  const routes: Route[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Doc>)) {
    for (const method of METHODS.filter((m) => item[m])) {
      const op = resolveRefs(item[method], doc) as Doc;
      const params = (op.parameters ?? []) as Parameter[];
      const responses = new Map<string, { schema: JsonSchema | null; mediaType: string | null }>();
      for (const [status, answer] of Object.entries(op.responses as Record<string, Doc>)) {
        const [mediaType, content] = Object.entries((answer.content ?? {}) as Record<string, Doc>)[0] ?? [];
        responses.set(status, { schema: content?.schema ?? null, mediaType: mediaType ?? null });
      }
      routes.push({
        method: method.toUpperCase(),
        path,
        name: `${method.toUpperCase()} ${path}`,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: op.requestBody?.content?.['application/json']?.schema,
        secured: (op.security ?? doc.security ?? []).length > 0,
        responses,
      });
    }
  }
  return routes;
}

// ajv-formats is CommonJS: the plugin is the module itself or its `default`, by how it was loaded.
const withFormats = (addFormats.default ?? addFormats) as unknown as typeof addFormats.default;

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Compiles each route's response schemas once and answers what is wrong with a response, naming
 * the route, the status and the schema error; null when the response is as documented.
 */
export class ResponseChecker {
  private readonly ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
  private readonly compiled = new Map<JsonSchema, ValidateFunction>();

  constructor() {
    withFormats(this.ajv);
  }

  problem(route: Route, answer: Answer): string | null {
    const { status } = answer;
    const declared =
      route.responses.get(String(status)) ?? route.responses.get(`${Math.floor(status / 100)}XX`);
    if (!declared) {
      return `${route.name} answered ${status}, which the document does not declare (declared: ${[
        ...route.responses.keys(),
      ].join(', ')}); body ${answer.body.slice(0, 300)}`;
    }
    if (declared.schema === null) {
      return answer.body.length === 0
        ? null
        : `${route.name} ${status} declares no body but sent ${answer.body.slice(0, 200)}`;
    }
    let value: unknown = answer.body;
    if (declared.mediaType?.includes('json')) {
      if (!answer.contentType.includes('json')) {
        return `${route.name} ${status} sent Content-Type ${answer.contentType}, not ${declared.mediaType}`;
      }
      try {
        value = JSON.parse(answer.body);
      } catch (err) {
        return `${route.name} ${status} sent a body that is not JSON (${(err as Error).message})`;
      }
    }
    const validate = this.validator(declared.schema);
    if (validate(value)) return null;
    const error = validate.errors?.[0];
    return `${route.name} ${status} does not match its schema: ${error?.instancePath || '/'} ${error?.message} ${JSON.stringify(error?.params)}; body ${answer.body.slice(0, 300)}`;
  }

  private validator(schema: JsonSchema): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}
