import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AccessPoint } from './compile/types.js';
import { DEFAULT_KEEPALIVE } from './config.js';
import { ControlPlane } from './controlPlane.js';
import { DEFAULT_QUOTAS } from './domain/catalogue.js';
import * as ops from './domain/operations/index.js';
import type { Gateway, Vpc } from './domain/types.js';
import { isSagError } from './errors.js';
import { createMetrics } from './metrics.js';
import { createMemoryStore } from './store/memory.js';
import type { Store } from './store/store.js';

const AP: AccessPoint = { id: 'ap-1', address: '127.0.0.1:7000' };

function controlPlane(store: Store = createMemoryStore(), accessPoint = AP) {
  const registry = new Registry();
  const cp = new ControlPlane({
    store,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(registry),
    settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
    compile: { accessPoints: [accessPoint], keepalive: DEFAULT_KEEPALIVE },
  });
  return { cp, registry, store };
}

async function gauge(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

function gatewayIn(cp: ControlPlane, name: string, cidr: string, ccnId: string): Gateway {
  const gateway = cp.mutate<Gateway>('test', (t, ctx) =>
    ops.createGateway(t, ctx, {
      name,
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
    }),
  )!;
  return cp.mutate<Gateway>('test', (t, ctx) =>
    ops.setNetwork(t, ctx, gateway.id, { privateCidrs: [cidr], ccnId }),
  )!;
}

/** Two CCNs, three gateways in the first and two in the second, the first attached to a CEN. */
function twoCcns() {
  const setup = controlPlane();
  const { cp } = setup;
  const cen = cp.mutate<{ id: string }>('test', (t, ctx) => ops.createCen(t, ctx, { name: 'Main' }))!;
  const ccnA = cp.mutate<{ id: string }>('test', (t, ctx) =>
    ops.createCcn(t, ctx, { name: 'East', area: 'china-mainland' }),
  )!;
  const ccnB = cp.mutate<{ id: string }>('test', (t, ctx) =>
    ops.createCcn(t, ctx, { name: 'West', area: 'china-mainland' }),
  )!;
  cp.mutate('test', (t, ctx) =>
    ops.attachToCen(t, ctx, cen.id, { instanceType: 'ccn', instanceId: ccnA.id }),
  );
  const a = ['172.16.0.0/16', '172.17.0.0/16', '172.18.0.0/16'].map((cidr, i) =>
    gatewayIn(cp, `East ${i}`, cidr, ccnA.id),
  );
  const b = ['192.168.1.0/24', '192.168.2.0/24'].map((cidr, i) => gatewayIn(cp, `West ${i}`, cidr, ccnB.id));
  return { ...setup, cen, a, b };
}

describe('ControlPlane', () => {
  it('recompiles only the gateways a change can reach, and says so in its metrics', async () => {
    const { cp, registry, cen, a, b } = twoCcns();
    const revisionsBefore = [...a, ...b].map((g) => cp.gatewayConfig(g.id).revision);
    const vpc = cp.mutate<Vpc>('test', (t, ctx) =>
      ops.createVpc(t, ctx, { name: 'Shanghai', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'] }),
    )!;
    expect(await gauge(registry, 'opensag_last_mutation_recompiled_gateways')).toBe(0);

    cp.mutate('test', (t, ctx) =>
      ops.attachToCen(t, ctx, cen.id, { instanceType: 'vpc', instanceId: vpc.id }),
    );
    expect(await gauge(registry, 'opensag_last_mutation_recompiled_gateways')).toBe(3);
    const revisionsAfter = [...a, ...b].map((g) => cp.gatewayConfig(g.id).revision);
    expect(revisionsAfter).toEqual([
      revisionsBefore[0] + 1,
      revisionsBefore[1] + 1,
      revisionsBefore[2] + 1,
      revisionsBefore[3],
      revisionsBefore[4],
    ]);
    expect(cp.gatewayConfig(a[0].id).config.routes.map((r) => r.destination)).toContain('10.1.0.0/16');
    expect(cp.gatewayConfig(b[0].id).config.routes.map((r) => r.destination)).not.toContain('10.1.0.0/16');
  });

  it('gives no new revision when a change leaves a config as it was', () => {
    const { cp, a } = twoCcns();
    const before = cp.gatewayConfig(a[0].id);
    cp.mutate('test', (t, ctx) => ops.updateGateway(t, ctx, a[0].id, { description: 'front office' }));
    expect(cp.gatewayConfig(a[0].id)).toEqual(before);
  });

  it('recompiles nothing when only a gateway name or description changes', async () => {
    const { cp, registry, a } = twoCcns();
    cp.mutate('test', (t, ctx) =>
      ops.updateGateway(t, ctx, a[0].id, { name: 'East front office', description: 'by the door' }),
    );
    expect(await gauge(registry, 'opensag_last_mutation_recompiled_gateways')).toBe(0);
    expect(cp.get('gateway', a[0].id).name).toBe('East front office');
    cp.mutate('test', (t, ctx) =>
      ops.setNetwork(t, ctx, a[0].id, { privateCidrs: ['172.26.0.0/16'], ccnId: a[0].ccnId }),
    );
    expect(await gauge(registry, 'opensag_last_mutation_recompiled_gateways')).toBe(3);
  });

  it('puts memory back exactly when the store refuses a write', () => {
    const { cp, store, a } = twoCcns();
    const before = structuredClone(cp.get('gateway', a[0].id));
    const configBefore = cp.gatewayConfig(a[1].id);
    // Break the store under the control plane for one commit.
    const commit = store.commit.bind(store);
    store.commit = () => {
      throw new Error('disk full');
    };
    expect(() =>
      cp.mutate('test', (t, ctx) =>
        ops.setNetwork(t, ctx, a[0].id, { privateCidrs: ['172.20.0.0/16'], ccnId: before.ccnId }),
      ),
    ).toThrow('disk full');
    store.commit = commit;
    expect(cp.get('gateway', a[0].id)).toEqual(before);
    expect(cp.gatewayConfig(a[1].id)).toEqual(configBefore);
  });

  it('refuses a rule violation without changing anything', () => {
    const { cp, a } = twoCcns();
    const before = structuredClone(cp.get('gateway', a[1].id));
    try {
      cp.mutate('test', (t, ctx) =>
        ops.setNetwork(t, ctx, a[1].id, { privateCidrs: ['172.16.0.0/12'], ccnId: before.ccnId }),
      );
      expect.unreachable();
    } catch (err) {
      expect(isSagError(err) && err.code).toBe('CIDR_CONFLICT');
    }
    expect(cp.get('gateway', a[1].id)).toEqual(before);
  });

  it('recompiles at start when its own settings changed, and only then', () => {
    const { store, a } = twoCcns();
    const same = controlPlane(store).cp;
    const revision = same.gatewayConfig(a[0].id).revision;
    expect(controlPlane(store).cp.gatewayConfig(a[0].id).revision).toBe(revision);
    const moved = controlPlane(store, { id: 'ap-1', address: '127.0.0.1:7100' }).cp;
    expect(moved.gatewayConfig(a[0].id).revision).toBe(revision + 1);
    expect(moved.gatewayConfig(a[0].id).config.tunnels[0].address).toBe('127.0.0.1:7100');
    expect(store.loadConfigs().get(a[0].id)?.revision).toBe(revision + 1);
  });

  it('pages through a list with cursors in creation order', () => {
    const { cp } = controlPlane();
    const names = Array.from({ length: 7 }, (_, i) => `Lab net ${i}`);
    for (const name of names) {
      cp.mutate('test', (t, ctx) =>
        ops.createVpc(t, ctx, { name, region: 'cn-beijing', cidrBlocks: ['10.9.0.0/16'] }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = cp.list('vpc', { limit: 3, cursor });
      seen.push(...page.items.map((v) => v.name));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
  });
});

describe('fleet metrics', () => {
  it('count gateways by lifecycle, devices by presence and active gateways by sync at scrape time', async () => {
    const { cp, registry, a } = twoCcns();
    cp.mutate('test', (t, ctx) =>
      ops.bindDevice(t, ctx, a[0].id, {
        serialNumber: 'SAGM0001',
        publicKey: Buffer.alloc(32, 7).toString('base64'),
      }),
    );
    cp.mutate('test', (t, ctx) => ops.activateGateway(t, ctx, a[0].id));
    const text = await registry.metrics();
    expect(text).toContain('opensag_gateways{lifecycle="ordered"} 4');
    expect(text).toContain('opensag_gateways{lifecycle="active"} 1');
    expect(text).toContain('opensag_devices{presence="offline"} 1');
    expect(text).toContain('opensag_gateway_sync{sync="pending"} 1');
    cp.recordDevice(a[0].id, 'SAGM0001', {
      presence: 'online',
      appliedRevision: cp.gatewayConfig(a[0].id).revision,
      appliedHash: cp.gatewayConfig(a[0].id).hash,
    });
    const after = await registry.metrics();
    expect(after).toContain('opensag_devices{presence="online"} 1');
    expect(after).toContain('opensag_gateway_sync{sync="in-sync"} 1');
  });
});
