import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { RateLimitOptions } from '../api/rateLimit.js';
import { buildApi } from '../api/server.js';
import type { AccessPoint } from '../compile/types.js';
import { DEFAULT_KEEPALIVE } from '../config.js';
import { ControlPlane } from '../controlPlane.js';
import { DEFAULT_QUOTAS } from '../domain/catalogue.js';
import type { Quotas } from '../domain/types.js';
import { createMetrics } from '../metrics.js';
import { createMemoryStore } from '../store/memory.js';

/**
 * An API over a real control plane and the in-memory store, driven with `inject` (no sockets).
 * Used by the tests beside each resource plugin.
 */

export const TOKEN = 'test-token-5f1e0c9a';

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  body: any;
  headers: Record<string, unknown>;
  text: string;
}

export interface TestApiOptions {
  quotas?: Partial<Quotas>;
  /** Default: china-mainland only, as the broker ships. */
  enabledAreas?: string[];
  now?: () => Date;
  rateLimit?: RateLimitOptions | false;
  bodyLimit?: number;
  /** Default: one access point no edge agent runs. */
  accessPoints?: AccessPoint[];
}

export class TestApi {
  readonly app: FastifyInstance;
  readonly controlPlane: ControlPlane;
  readonly registry = new Registry();

  constructor(options: TestApiOptions = {}) {
    const log = pino({ level: 'silent' });
    this.controlPlane = new ControlPlane({
      store: createMemoryStore(),
      log,
      metrics: createMetrics(this.registry),
      now: options.now,
      settings: {
        enabledAreas: options.enabledAreas ?? ['china-mainland'],
        quotas: { ...DEFAULT_QUOTAS, ...options.quotas },
      },
      compile: {
        accessPoints: options.accessPoints ?? [{ id: 'ap-test', address: '127.0.0.1:7000' }],
        keepalive: DEFAULT_KEEPALIVE,
      },
    });
    this.app = buildApi({
      controlPlane: this.controlPlane,
      token: TOKEN,
      logger: log,
      metricsRegistry: this.registry,
      rateLimit: options.rateLimit ?? false,
      bodyLimit: options.bodyLimit,
    });
  }

  async call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    token: string | null = TOKEN,
  ): Promise<Answer> {
    const res = await this.app.inject({
      method,
      url,
      ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    const json = res.headers['content-type']?.toString().includes('json') && res.body.length > 0;
    return {
      status: res.statusCode,
      body: json ? res.json() : undefined,
      headers: res.headers,
      text: res.body,
    };
  }

  get = (url: string) => this.call('GET', url);
  post = (url: string, body: unknown = {}) => this.call('POST', url, body);
  put = (url: string, body: unknown) => this.call('PUT', url, body);
  patch = (url: string, body: unknown) => this.call('PATCH', url, body);
  delete = (url: string) => this.call('DELETE', url);

  /** POSTs and insists on 201, so fixture set-up failures point at the set-up. */
  async create(url: string, body: unknown) {
    const answer = await this.post(url, body);
    if (answer.status !== 201) throw new Error(`POST ${url} answered ${answer.status}: ${answer.text}`);
    return answer.body;
  }

  async expectOk(answer: Promise<Answer>, status = 200) {
    const a = await answer;
    if (a.status !== status) throw new Error(`expected ${status}, got ${a.status}: ${a.text}`);
    return a.body;
  }

  gateway = (name = 'Hangzhou branch', fields: Record<string, unknown> = {}) =>
    this.create('/v1/gateways', {
      name,
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
      ...fields,
    });

  /** A gateway with a device bound: lifecycle `shipped`. */
  async shippedGateway(name = 'Hangzhou branch') {
    const g = await this.gateway(name);
    return this.expectOk(this.put(`/v1/gateways/${g.id}/device`, deviceIdentity()));
  }

  async activeGateway(name = 'Hangzhou branch') {
    const g = await this.shippedGateway(name);
    return this.expectOk(this.post(`/v1/gateways/${g.id}/activate`));
  }

  ccn = (name = 'Branches') => this.create('/v1/ccns', { name, area: 'china-mainland' });
  cen = (name = 'Company network') => this.create('/v1/cens', { name });
  vpc = (name = 'Shanghai VPC', region = 'cn-shanghai', cidrBlocks = ['10.1.0.0/16']) =>
    this.create('/v1/vpcs', { name, region, cidrBlocks });
  securityGroup = (vpcId: string, name = 'web servers') =>
    this.create('/v1/security-groups', { name, vpcId });
  acl = (name = 'Branch firewall') => this.create('/v1/acls', { name });

  close = () => this.app.close();
}

let serial = 0;

/** A fresh device identity as `sag-agent init` would print it. */
export function deviceIdentity() {
  serial += 1;
  return {
    serialNumber: `SAG100WM-${String(serial).padStart(5, '0')}`,
    publicKey: randomBytes(32).toString('base64'),
  };
}

/** Starts a TestApi and waits for its plugins. */
export async function startTestApi(options?: TestApiOptions): Promise<TestApi> {
  const api = new TestApi(options);
  await api.app.ready();
  return api;
}
