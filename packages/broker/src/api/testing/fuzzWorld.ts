import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_KEEPALIVE } from '../../config.js';
import { ControlPlane } from '../../controlPlane.js';
import type { DeviceLinkContext } from '../../devices/context.js';
import { Probes } from '../../devices/probes.js';
import { DEFAULT_QUOTAS } from '../../domain/catalogue.js';
import { ENTITY_KINDS, type EntityKind } from '../../domain/types.js';
import { createMetrics } from '../../metrics.js';
import { openSqliteStore } from '../../store/sqlite.js';
import { buildApi } from '../server.js';

/**
 * The API over a real control plane and SQLite, with the probe route (its devices all offline),
 * seeded with one of every kind of resource in every state the routes care about, plus deleted
 * ones. Generated requests name resources through IdRef placeholders, resolved when sent, so a
 * case reaches whatever is live (or deleted) at that moment.
 */

export const TOKEN = 'fuzz-token-0c4b7e21';

/** The domain's resources, the rules inside security groups and ACLs, and access points. */
export type Kind = EntityKind | 'sgRule' | 'aclRule' | 'accessPoint';
export const KINDS: readonly Kind[] = [...ENTITY_KINDS, 'sgRule', 'aclRule', 'accessPoint'];

/** A resource named by kind and position in the pool, resolved to an id when the request is sent. */
export class IdRef {
  constructor(
    readonly kind: Kind,
    readonly index: number,
    readonly deleted: boolean,
  ) {}
}

export interface FuzzApi {
  app: FastifyInstance;
  controlPlane: ControlPlane;
  live: Map<Kind, string[]>;
  deleted: Map<Kind, string[]>;
  resolve(ref: IdRef): string;
  /** Empties the pools and creates a fresh set of every kind (the old ones stay, unreferenced). */
  reseed(): Promise<void>;
  close(): Promise<void>;
}

export async function startFuzzApi(): Promise<FuzzApi> {
  const log = pino({ level: 'silent' });
  const registry = new Registry();
  const store = openSqliteStore(':memory:');
  const controlPlane = new ControlPlane({
    store,
    log,
    metrics: createMetrics(registry),
    // Room for a fresh set of fixtures per route and walk; the quotas themselves are tested elsewhere.
    settings: {
      enabledAreas: ['china-mainland'],
      quotas: { ...DEFAULT_QUOTAS, gateways: 100_000, ccns: 100_000, acls: 100_000 },
    },
    compile: { accessPoints: [{ id: 'ap-test', address: '127.0.0.1:7000' }], keepalive: DEFAULT_KEEPALIVE },
  });
  // The real probe path up to the point a connected device would be asked: no device ever is.
  const probes = new Probes({
    controlPlane,
    sessions: { bySerial: () => undefined },
  } as unknown as DeviceLinkContext);
  const app = buildApi({
    controlPlane,
    token: TOKEN,
    logger: log,
    metricsRegistry: registry,
    rateLimit: false,
    deviceLink: { probe: (id, request) => probes.probe(id, request) },
  });
  await app.ready();
  const live = new Map<Kind, string[]>(KINDS.map((k) => [k, []]));
  const deleted = new Map<Kind, string[]>(KINDS.map((k) => [k, []]));
  const api: FuzzApi = {
    app,
    controlPlane,
    live,
    deleted,
    resolve: (ref) => {
      const pools = ref.deleted ? [deleted, live] : [live, deleted];
      const pool = pools.map((p) => p.get(ref.kind)!).find((p) => p.length > 0) ?? ['nothing-of-this-kind'];
      return pool[ref.index % pool.length];
    },
    reseed: async () => {
      for (const pool of [...live.values(), ...deleted.values()]) pool.length = 0;
      await seed(api);
    },
    close: async () => {
      await app.close();
      controlPlane.flushDeviceWrites();
      store.close();
    },
  };
  await seed(api);
  return api;
}

/** Sends as the operator and insists on a 2xx: a fixture that fails points at the fixture. */
export async function send(api: FuzzApi, method: InjectOptions['method'], url: string, body?: unknown) {
  const res = await api.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }),
  });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} answered ${res.statusCode}: ${res.body}`);
  return res.body ? res.json() : undefined;
}

const gatewayBody = (name: string) => ({
  name,
  area: 'china-mainland',
  spec: 'sag-100wm',
  bandwidthMbps: 2,
  subscriptionMonths: 1,
});
const sgRule = {
  direction: 'ingress',
  policy: 'accept',
  priority: 1,
  protocol: 'tcp',
  portRange: '22/22',
  cidr: '172.16.0.0/16',
};
const aclRule = {
  direction: 'in',
  policy: 'drop',
  priority: 5,
  protocol: 'all',
  sourceCidr: '0.0.0.0/0',
  sourcePortRange: '-1/-1',
  destCidr: '172.16.1.0/24',
  destPortRange: '-1/-1',
};
let serial = 0;
const device = () => ({
  serialNumber: `SAGFUZZ-${String(++serial).padStart(5, '0')}`,
  publicKey: Buffer.alloc(32, serial).toString('base64'),
});

async function seed(api: FuzzApi): Promise<void> {
  const add = (kind: Kind, id: string) => api.live.get(kind)!.push(id);
  const made = async (kind: Kind, url: string, body: unknown) => {
    const created = await send(api, 'POST', url, body);
    add(kind, created.id);
    return created;
  };
  add('accessPoint', 'ap-test');
  const shanghai = await made('vpc', '/v1/vpcs', {
    name: 'Shanghai VPC',
    region: 'cn-shanghai',
    cidrBlocks: ['10.1.0.0/16'],
  });
  await made('vpc', '/v1/vpcs', { name: 'Beijing VPC', region: 'cn-beijing', cidrBlocks: ['10.2.0.0/16'] });
  await made('vpc', '/v1/vpcs', {
    name: 'Frankfurt VPC',
    region: 'eu-central-1',
    cidrBlocks: ['10.9.0.0/16'],
  });
  const web = await made('securityGroup', '/v1/security-groups', { name: 'web servers', vpcId: shanghai.id });
  await made('securityGroup', '/v1/security-groups', { name: 'spare group', vpcId: shanghai.id });
  const withRule = await send(api, 'POST', `/v1/security-groups/${web.id}/rules`, sgRule);
  add('sgRule', withRule.id);
  await made('instance', '/v1/instances', {
    name: 'web-1',
    vpcId: shanghai.id,
    privateIp: '10.1.0.10',
    securityGroupIds: [web.id],
  });
  const branches = await made('ccn', '/v1/ccns', { name: 'Branches', area: 'china-mainland' });
  await made('ccn', '/v1/ccns', { name: 'Spare CCN', area: 'china-mainland' });
  const company = await made('cen', '/v1/cens', { name: 'Company network' });
  await made('cen', '/v1/cens', { name: 'Spare CEN' });
  const firewall = await made('acl', '/v1/acls', { name: 'Branch firewall' });
  await made('acl', '/v1/acls', { name: 'Spare ACL' });
  const rules = await send(api, 'POST', `/v1/acls/${firewall.id}/rules`, aclRule);
  add('aclRule', rules.id);
  await made('gateway', '/v1/gateways', gatewayBody('Ordered branch'));
  const shipped = await made('gateway', '/v1/gateways', gatewayBody('Shipped branch'));
  await send(api, 'PUT', `/v1/gateways/${shipped.id}/device`, device());
  const active = await made('gateway', '/v1/gateways', gatewayBody('Hangzhou branch'));
  const activeDevice = device();
  await send(api, 'PUT', `/v1/gateways/${active.id}/device`, activeDevice);
  await send(api, 'POST', `/v1/gateways/${active.id}/activate`);
  await send(api, 'PUT', `/v1/gateways/${active.id}/ports`, {
    wan: [{ name: 'wan0', mode: 'dhcp' }],
    lan: [],
  });
  await send(api, 'PUT', `/v1/gateways/${active.id}/network`, {
    privateCidrs: ['172.16.0.0/16'],
    ccnId: branches.id,
    cenId: company.id,
  });
  await send(api, 'PUT', `/v1/gateways/${active.id}/acl`, { aclId: firewall.id });
  await send(api, 'POST', `/v1/cens/${company.id}/attachments`, {
    instanceType: 'vpc',
    instanceId: shanghai.id,
  });
  await send(api, 'PUT', `/v1/cens/${company.id}/bandwidth-packages`, [
    { areas: ['china-mainland', 'europe'], bandwidthMbps: 10 },
  ]);
  api.controlPlane.recordDevice(active.id, activeDevice.serialNumber, {
    presence: 'online',
    lastSeenAt: new Date().toISOString(),
    report: {
      tunnels: [
        { accessPoint: 'ap-test', role: 'active', state: 'up', rttMs: 12.5, lossPct: 0, jitterMs: 1 },
      ],
      ports: [{ name: 'wan0', up: true }],
    },
  });
  await seedDeleted(api, shanghai.id, web.id, firewall.id);
}

/** One of each kind, created and deleted, so their ids are known to no live resource. */
async function seedDeleted(api: FuzzApi, vpcId: string, sgId: string, aclId: string): Promise<void> {
  const gone = async (kind: Kind, url: string, body: unknown) => {
    const created = await send(api, 'POST', url, body);
    await send(api, 'DELETE', `${url}/${created.id}`);
    api.deleted.get(kind)!.push(created.id);
  };
  await gone('gateway', '/v1/gateways', gatewayBody('Closed branch'));
  await gone('ccn', '/v1/ccns', { name: 'Old CCN', area: 'china-mainland' });
  await gone('cen', '/v1/cens', { name: 'Old CEN' });
  await gone('vpc', '/v1/vpcs', { name: 'Old VPC', region: 'cn-beijing', cidrBlocks: ['10.50.0.0/16'] });
  await gone('securityGroup', '/v1/security-groups', { name: 'old group', vpcId });
  await gone('instance', '/v1/instances', {
    name: 'old-1',
    vpcId,
    privateIp: '10.1.0.99',
    securityGroupIds: [sgId],
  });
  await gone('acl', '/v1/acls', { name: 'Old ACL' });
  const sgRuleId = (await send(api, 'POST', `/v1/security-groups/${sgId}/rules`, { ...sgRule, priority: 9 }))
    .id;
  await send(api, 'DELETE', `/v1/security-groups/${sgId}/rules/${sgRuleId}`);
  api.deleted.get('sgRule')!.push(sgRuleId);
  const aclRuleId = (await send(api, 'POST', `/v1/acls/${aclId}/rules`, { ...aclRule, priority: 9 })).id;
  await send(api, 'DELETE', `/v1/acls/${aclId}/rules/${aclRuleId}`);
  api.deleted.get('aclRule')!.push(aclRuleId);
}

/** A reference to a resource: mostly of the expected kinds and live, sometimes any kind or deleted. */
export function idRef(kinds: readonly Kind[]): fc.Arbitrary<IdRef> {
  return fc
    .record({
      kind: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...kinds) },
        { weight: 1, arbitrary: fc.constantFrom(...KINDS) },
      ),
      // The first of each kind is the one others refer to (the Shanghai VPC, its web group...).
      index: fc.oneof(fc.constant(0), fc.nat(7)),
      deleted: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    })
    .map(({ kind, index, deleted }) => new IdRef(kind, index, deleted));
}

/** The resource kinds a path parameter names, from its name and the collection before it. */
export function kindsOfParam(path: string, param: string): readonly Kind[] {
  if (param === 'gatewayId') return ['gateway'];
  if (param === 'instanceId') return ['vpc', 'ccn'];
  if (param === 'ruleId') return path.includes('/security-groups/') ? ['sgRule'] : ['aclRule'];
  const collection = path.split(`/{${param}}`)[0].split('/').pop();
  const byCollection: Record<string, Kind> = {
    gateways: 'gateway',
    ccns: 'ccn',
    cens: 'cen',
    vpcs: 'vpc',
    instances: 'instance',
    'security-groups': 'securityGroup',
    acls: 'acl',
    'access-points': 'accessPoint',
  };
  const kind = collection ? byCollection[collection] : undefined;
  return kind ? [kind] : KINDS;
}
