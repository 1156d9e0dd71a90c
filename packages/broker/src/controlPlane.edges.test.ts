import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { compileEdgeConfig } from './compile/edgeConfig.js';
import { configHash } from './compile/revision.js';
import type { AccessPoint, GatewayConfig } from './compile/types.js';
import { DEFAULT_KEEPALIVE } from './config.js';
import { ControlPlane } from './controlPlane.js';
import { DEFAULT_QUOTAS } from './domain/catalogue.js';
import * as ops from './domain/operations/index.js';
import type { Gateway, Vpc } from './domain/types.js';
import { createMetrics } from './metrics.js';
import { createMemoryStore } from './store/memory.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

const EDGE: AccessPoint = {
  id: 'ap-edge-a',
  address: '203.0.113.11:51820',
  serialNumber: 'SAGEDGEA01',
  identityKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
};
const EDGE_KEY = 'ZWRnZS1hLXR1bm5lbC1rZXktMDAwMDAwMDAwMDAwMDA=';
const GATEWAY_KEY = 'aHotYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(store: Store): ControlPlane {
  return new ControlPlane({
    store,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(new Registry()),
    settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
    compile: { accessPoints: [EDGE], keepalive: DEFAULT_KEEPALIVE },
  });
}

function activeGateway(cp: ControlPlane): Gateway {
  const gateway = cp.mutate<Gateway>('test', (t, ctx) =>
    ops.createGateway(t, ctx, {
      name: 'Hangzhou branch',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
    }),
  ) as Gateway;
  cp.mutate('test', (t, ctx) =>
    ops.bindDevice(t, ctx, gateway.id, {
      serialNumber: 'SAGHZ0001',
      publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    }),
  );
  cp.mutate('test', (t, ctx) => ops.activateGateway(t, ctx, gateway.id));
  cp.mutate('test', (t, ctx) => ops.setNetwork(t, ctx, gateway.id, { privateCidrs: ['172.16.0.0/16'] }));
  return gateway;
}

/** A fresh compile of the edge from what the control plane holds now, without any kept state. */
function freshEdge(cp: ControlPlane) {
  return compileEdgeConfig(
    cp.topology,
    EDGE,
    { accessPoints: [EDGE], keepalive: DEFAULT_KEEPALIVE },
    {
      tunnelKeyOf: (id) => cp.deviceState(id)?.tunnelPublicKey ?? undefined,
      routesOf: (id) => (cp.configRecord(id)?.config as GatewayConfig | undefined)?.routes ?? [],
    },
  );
}

const BLOCK_POOL = ['172.16.0.0/16', '172.16.1.0/24', '172.16.0.0/12', '172.17.0.0/16', '10.9.0.0/24'];
const KEY_POOL = [GATEWAY_KEY, 'bmItYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=', 'unique'];
const command = fc.oneof(
  fc.record({
    kind: fc.constant('network' as const),
    gateway: fc.nat(3),
    blocks: fc.subarray(BLOCK_POOL, { minLength: 1, maxLength: 2 }),
    ccn: fc.nat(2),
  }),
  fc.record({ kind: fc.constant('key' as const), gateway: fc.nat(3), key: fc.constantFrom(...KEY_POOL) }),
  fc.record({ kind: fc.constant('ports' as const), gateway: fc.nat(3) }),
  fc.record({ kind: fc.constant('vpc' as const), block: fc.constantFrom('10.1.0.0/16', '10.2.0.0/16') }),
  fc.record({ kind: fc.constant('attach' as const) }),
  fc.record({ kind: fc.constant('detach' as const) }),
  fc.record({ kind: fc.constant('unbind' as const), gateway: fc.nat(3) }),
);

describe('access points run by edge agents', () => {
  it('keeps reported tunnel keys across a restart, so no config gets a new revision', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opensag-edges-'));
    dirs.push(dir);
    const first = open(openSqliteStore(join(dir, 'opensag.db')));
    const gateway = activeGateway(first);
    first.recordTunnelKey('ap-edge-a', 'SAGEDGEA01', EDGE_KEY);
    first.recordTunnelKey(gateway.id, 'SAGHZ0001', GATEWAY_KEY);
    first.flushTunnelKeys();
    const edgeRevision = first.configRecord('ap-edge-a')?.revision;
    const gatewayRevision = first.configRecord(gateway.id)?.revision;
    expect(first.gatewayConfig(gateway.id).config.tunnels[0].publicKey).toBe(EDGE_KEY);
    expect(first.accessPointConfig('ap-edge-a').config.edge.peers).toEqual([
      { gatewayId: gateway.id, publicKey: GATEWAY_KEY, allowedIps: ['172.16.0.0/16'], routeSet: 'routes-1' },
    ]);
    first.flushDeviceWrites();

    const second = open(openSqliteStore(join(dir, 'opensag.db')));
    expect(second.configRecord('ap-edge-a')?.revision).toBe(edgeRevision);
    expect(second.configRecord(gateway.id)?.revision).toBe(gatewayRevision);
    expect(second.accessPoint('ap-edge-a').tunnelPublicKey).toBe(EDGE_KEY);
  });

  it('gives the edge a new revision when a VPC, an instance or a security-group rule changes', () => {
    const cp = open(openSqliteStore(':memory:'));
    const revision = () => cp.configRecord('ap-edge-a')?.revision ?? 0;
    const before = revision();
    const vpc = cp.mutate<Vpc>('test', (t, ctx) =>
      ops.createVpc(t, ctx, { name: 'Shanghai VPC', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'] }),
    ) as Vpc;
    expect(revision()).toBe(before + 1);
    expect(cp.accessPointConfig('ap-edge-a').config.edge.vpcs).toEqual([
      { vpcId: vpc.id, cidrBlocks: ['10.1.0.0/16'] },
    ]);
    // An unrelated description change recompiles nothing new for the edge.
    cp.mutate('test', (t, ctx) =>
      ops.createGateway(t, ctx, {
        name: 'Ningbo branch',
        area: 'china-mainland',
        spec: 'sag-100wm',
        bandwidthMbps: 2,
        subscriptionMonths: 1,
      }),
    );
    expect(revision()).toBe(before + 1);
  });

  it("follows a gateway's routes into its peer's route set in the same mutation", () => {
    const cp = open(openSqliteStore(':memory:'));
    const gateway = activeGateway(cp);
    cp.recordTunnelKey(gateway.id, 'SAGHZ0001', GATEWAY_KEY);
    cp.flushTunnelKeys();
    const reachable = () => {
      const { peers, routeSets } = cp.accessPointConfig('ap-edge-a').config.edge;
      return routeSets?.find((set) => set.id === peers[0]?.routeSet)?.destinations;
    };
    expect(reachable()).toEqual(['172.16.0.0/16']);
    const cen = cp.mutate<{ id: string }>('test', (t, ctx) => ops.createCen(t, ctx, { name: 'Main' })) as {
      id: string;
    };
    const ccn = cp.mutate<{ id: string }>('test', (t, ctx) =>
      ops.createCcn(t, ctx, { name: 'Branches', area: 'china-mainland' }),
    ) as { id: string };
    const vpc = cp.mutate<Vpc>('test', (t, ctx) =>
      ops.createVpc(t, ctx, { name: 'Shanghai VPC', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'] }),
    ) as Vpc;
    cp.mutate('test', (t, ctx) =>
      ops.attachToCen(t, ctx, cen.id, { instanceType: 'vpc', instanceId: vpc.id }),
    );
    cp.mutate('test', (t, ctx) =>
      ops.attachToCen(t, ctx, cen.id, { instanceType: 'ccn', instanceId: ccn.id }),
    );
    expect(reachable()).toEqual(['172.16.0.0/16']);
    cp.mutate('test', (t, ctx) =>
      ops.setNetwork(t, ctx, gateway.id, { privateCidrs: ['172.16.0.0/16'], ccnId: ccn.id }),
    );
    expect(cp.gatewayConfig(gateway.id).config.routes.map((r) => r.destination)).toEqual(['10.1.0.0/16']);
    expect(reachable()).toEqual(['10.1.0.0/16', '172.16.0.0/16']);
  });

  it('leaves edge configs as a fresh compile would have them after mutations it skips and ones it does not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opensag-edges-'));
    dirs.push(dir);
    const file = join(dir, 'opensag.db');
    const cp = open(openSqliteStore(file));
    const gateway = activeGateway(cp);
    cp.recordTunnelKey(gateway.id, 'SAGHZ0001', GATEWAY_KEY);
    cp.flushTunnelKeys();
    const ccn = cp.mutate<{ id: string }>('test', (t, ctx) =>
      ops.createCcn(t, ctx, { name: 'Branches', area: 'china-mainland' }),
    ) as { id: string };
    const ports = { wan: [{ name: 'wan0', mode: 'dhcp' as const, priority: 2 }], lan: [] };
    cp.mutate('test', (t, ctx) => ops.setPorts(t, ctx, gateway.id, ports)); // skipped: ports only
    cp.mutate('test', (t, ctx) =>
      ops.setNetwork(t, ctx, gateway.id, { privateCidrs: ['172.18.0.0/16'], ccnId: ccn.id }),
    );
    const vpc = cp.mutate<Vpc>('test', (t, ctx) =>
      ops.createVpc(t, ctx, { name: 'Shanghai VPC', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'] }),
    ) as Vpc;
    cp.mutate('test', (t, ctx) => ops.setPorts(t, ctx, gateway.id, { ...ports, lan: [] }));
    cp.flushDeviceWrites();
    const fresh = open(openSqliteStore(file));
    expect(fresh.configRecord('ap-edge-a')?.hash).toBe(cp.configRecord('ap-edge-a')?.hash);
    expect(cp.accessPointConfig('ap-edge-a').config.edge.peers[0].allowedIps).toEqual(['172.18.0.0/16']);
    expect(cp.accessPointConfig('ap-edge-a').config.edge.vpcs.map((v) => v.vpcId)).toEqual([vpc.id]);
  });

  it('compiles a burst of new tunnel keys into one new edge revision', () => {
    const cp = open(openSqliteStore(':memory:'));
    const gateway = activeGateway(cp);
    const before = cp.configRecord('ap-edge-a')?.revision ?? 0;
    cp.recordTunnelKey('ap-edge-a', 'SAGEDGEA01', EDGE_KEY);
    cp.recordTunnelKey(gateway.id, 'SAGHZ0001', GATEWAY_KEY);
    expect(cp.configRecord('ap-edge-a')?.revision).toBe(before);
    cp.flushTunnelKeys();
    expect(cp.configRecord('ap-edge-a')?.revision).toBe(before + 1);
    expect(cp.gatewayConfig(gateway.id).config.tunnels[0].publicKey).toBe(EDGE_KEY);
    cp.flushTunnelKeys(); // nothing new: nothing recompiled
    expect(cp.configRecord('ap-edge-a')?.revision).toBe(before + 1);
  });

  it('names an access point no edge agent runs when its config is asked for', () => {
    const cp = new ControlPlane({
      store: openSqliteStore(':memory:'),
      log: pino({ level: 'silent' }),
      metrics: createMetrics(new Registry()),
      settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
      compile: {
        accessPoints: [{ id: 'ap-static', address: '127.0.0.1:7000' }],
        keepalive: DEFAULT_KEEPALIVE,
      },
    });
    expect(() => cp.accessPointConfig('ap-static')).toThrow(/only an access point run by an edge agent/);
    expect(() => cp.accessPoint('ap-nope')).toThrow('access point ap-nope not found');
  });

  it('keeps edge configs equal to a fresh compile through random mutations, and across a restart', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 14 }), (commands) => {
        const store = createMemoryStore();
        const cp = open(store);
        const { gateways, ccns, cen } = smallFleet(cp);
        let last = cp.configRecord('ap-edge-a');
        for (const c of commands) {
          const mutate = (operation: Parameters<ControlPlane['mutate']>[1]) => {
            try {
              cp.mutate('test', operation);
            } catch {
              // Refused by the domain (an overlap in a CEN, nothing to detach...): nothing changed.
            }
          };
          if (c.kind === 'network') {
            const ccnId = [null, ...ccns][c.ccn];
            mutate((t, ctx) =>
              ops.setNetwork(t, ctx, gateways[c.gateway], { privateCidrs: c.blocks, ccnId }),
            );
          } else if (c.kind === 'key') {
            const key = c.key === 'unique' ? `${gateways[c.gateway].slice(0, 20).padEnd(43, 'A')}=` : c.key;
            cp.recordTunnelKey(gateways[c.gateway], `SN${c.gateway}`, key);
          } else if (c.kind === 'ports') {
            const ports = {
              wan: [{ name: 'wan0', mode: 'dhcp' as const, priority: commands.indexOf(c) + 1 }],
              lan: [],
            };
            mutate((t, ctx) => ops.setPorts(t, ctx, gateways[c.gateway], ports));
          } else if (c.kind === 'vpc') {
            mutate((t, ctx) =>
              ops.createVpc(t, ctx, { name: 'VPC', region: 'cn-shanghai', cidrBlocks: [c.block] }),
            );
          } else if (c.kind === 'attach') {
            const vpc = [...cp.topology.vpcs.values()].find((v) => v.cenId === null);
            if (vpc)
              mutate((t, ctx) => ops.attachToCen(t, ctx, cen, { instanceType: 'vpc', instanceId: vpc.id }));
          } else if (c.kind === 'detach') {
            const vpc = [...cp.topology.vpcs.values()].find((v) => v.cenId === cen);
            if (vpc) mutate((t, ctx) => ops.detachFromCen(t, ctx, cen, vpc.id));
          } else mutate((t, ctx) => ops.unbindDevice(t, ctx, gateways[c.gateway]));
          cp.flushTunnelKeys();
          const fresh = freshEdge(cp);
          const record = cp.configRecord('ap-edge-a');
          expect(record?.config).toEqual(fresh.config);
          expect(record?.hash).toBe(configHash(fresh.config));
          expect(cp.accessPoint('ap-edge-a').omittedPeers).toEqual(fresh.omitted);
          // The revision moves exactly when the content does (each command is one change at most).
          expect(record?.revision).toBe((last?.revision ?? 0) + (record?.hash === last?.hash ? 0 : 1));
          last = record;
        }
        cp.flushDeviceWrites();
        const restarted = open(store).configRecord('ap-edge-a');
        expect(restarted?.hash).toBe(last?.hash);
        expect(restarted?.revision).toBe(last?.revision);
      }),
      { numRuns: 40 },
    );
  });
});

/** Four active gateways with devices, two CCNs attached to one CEN; returns their ids. */
function smallFleet(cp: ControlPlane): { gateways: string[]; ccns: string[]; cen: string } {
  const gateways: string[] = [];
  for (let i = 0; i < 4; i++) {
    const gateway = cp.mutate<Gateway>('test', (t, ctx) =>
      ops.createGateway(t, ctx, {
        name: `Branch ${i}`,
        area: 'china-mainland',
        spec: 'sag-100wm',
        bandwidthMbps: 2,
        subscriptionMonths: 1,
      }),
    ) as Gateway;
    cp.mutate('test', (t, ctx) =>
      ops.bindDevice(t, ctx, gateway.id, {
        serialNumber: `SN${i}`,
        publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
      }),
    );
    cp.mutate('test', (t, ctx) => ops.activateGateway(t, ctx, gateway.id));
    cp.mutate('test', (t, ctx) => ops.setNetwork(t, ctx, gateway.id, { privateCidrs: [`172.20.${i}.0/24`] }));
    gateways.push(gateway.id);
  }
  const cen = (
    cp.mutate<{ id: string }>('test', (t, ctx) => ops.createCen(t, ctx, { name: 'Main' })) as { id: string }
  ).id;
  const ccns = ['East', 'West'].map((name) => {
    const ccn = cp.mutate<{ id: string }>('test', (t, ctx) =>
      ops.createCcn(t, ctx, { name, area: 'china-mainland' }),
    ) as { id: string };
    cp.mutate('test', (t, ctx) => ops.attachToCen(t, ctx, cen, { instanceType: 'ccn', instanceId: ccn.id }));
    return ccn.id;
  });
  return { gateways, ccns, cen };
}
