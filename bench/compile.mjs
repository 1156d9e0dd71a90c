// B2, incremental compile: a fleet of N gateways (CCNs of 10, ten CCNs and one VPC per CEN), then
// one mutation that touches one gateway. Prints the broker's start-up recompile, and per round the
// compile time of the mutation and how many gateways it recompiled and gave a new revision.
// Usage: npm run build && node bench/compile.mjs [--gateways 10000] [--rounds 9] [--edges]
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ControlPlane } from '../packages/broker/dist/controlPlane.js';
import { DEFAULT_QUOTAS, emptyTopology, setPorts } from '../packages/broker/dist/domain/index.js';
import { createMetrics } from '../packages/broker/dist/metrics.js';
import { createMemoryStore } from '../packages/broker/dist/store/memory.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '9' },
    // Also two access points run by edge agents, with every gateway's tunnel key reported.
    edges: { type: 'boolean', default: false },
  },
});
const N = Number(values.gateways);
const ROUNDS = Number(values.rounds);
const CREATED = '2026-01-01T00:00:00.000Z';
const GATEWAYS_PER_CCN = 10;
const CCNS_PER_CEN = 10;

/** Gateway i owns 10.<high>.<low>.0/24-style blocks inside 172.16.0.0/12 and 100.64.0.0/10. */
function blockOf(i) {
  const base = i < 4096 ? 0xac100000 : 0x64400000; // 172.16.0.0, 100.64.0.0
  const n = i < 4096 ? i : i - 4096;
  const address = base + n * 256;
  return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join('.')}/24`;
}

function fleet() {
  const topology = emptyTopology();
  const ccnCount = Math.ceil(N / GATEWAYS_PER_CCN);
  for (let c = 0; c < ccnCount; c++) {
    const cenId = `cen-${Math.floor(c / CCNS_PER_CEN)}`;
    if (!topology.cens.has(cenId)) {
      const index = topology.cens.size;
      topology.cens.set(cenId, { id: cenId, name: cenId, bandwidthPackages: [], createdAt: CREATED });
      const vpcId = `vpc-${index}`;
      topology.vpcs.set(vpcId, {
        id: vpcId,
        name: vpcId,
        region: 'cn-shanghai',
        cidrBlocks: [`10.${index >> 8}.${index & 255}.0/24`],
        cenId,
        createdAt: CREATED,
      });
    }
    const ccnId = `ccn-${c}`;
    topology.ccns.set(ccnId, { id: ccnId, name: ccnId, area: 'china-mainland', cenId, createdAt: CREATED });
  }
  for (let i = 0; i < N; i++) {
    const id = `sag-${String(i).padStart(6, '0')}`;
    topology.gateways.set(id, {
      id,
      name: id,
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 12,
      createdAt: CREATED,
      lifecycle: 'active',
      serialNumber: `SIM${String(i).padStart(6, '0')}`,
      publicKey: null,
      activatedAt: CREATED,
      expiresAt: '2099-01-01T00:00:00.000Z',
      privateCidrs: [blockOf(i)],
      ccnId: `ccn-${Math.floor(i / GATEWAYS_PER_CCN)}`,
      aclId: null,
      ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
    });
  }
  return topology;
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

const store = createMemoryStore();
const topology = fleet();
store.loadTopology = () => topology;
const registry = new Registry();
let started = performance.now();
const cp = new ControlPlane({
  store,
  log: pino({ level: 'silent' }),
  metrics: createMetrics(registry),
  settings: { enabledAreas: ['china-mainland'], quotas: { ...DEFAULT_QUOTAS, gateways: N } },
  compile: {
    accessPoints: values.edges
      ? ['a', 'b'].map((name, i) => ({
          id: `ap-edge-${name}`,
          address: `127.0.0.1:${7000 + 2 * i}`,
          serialNumber: `SAGEDGE${name.toUpperCase()}01`,
          identityKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
        }))
      : [{ id: 'ap-1', address: '127.0.0.1:7000' }],
    keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
  },
});
const startMs = performance.now() - started;
if (values.edges) {
  started = performance.now();
  for (const [id, gateway] of topology.gateways)
    cp.recordTunnelKey(id, gateway.serialNumber, Buffer.alloc(32, id).toString('base64'));
  cp.flushTunnelKeys();
  console.log(
    `B2 ${N} tunnel keys reported and compiled into the edges in ${(performance.now() - started).toFixed(0)} ms`,
  );
}
const routes = cp.gatewayConfig('sag-000000').config.routes.length;
console.log(
  `B2 fleet: ${N} gateways, ${topology.ccns.size} CCNs, ${topology.cens.size} CENs; ${routes} routes per gateway`,
);
console.log(`B2 start-up: every gateway compiled in ${startMs.toFixed(0)} ms`);

const times = [];
let recompiled = 0;
let revisions = 0;
let committed;
cp.onCommitted((mutation) => {
  committed = mutation;
});
for (let round = 0; round < ROUNDS; round++) {
  const target = `sag-${String((round * 7919) % N).padStart(6, '0')}`;
  started = performance.now();
  cp.mutate('bench', (t, ctx) =>
    setPorts(t, ctx, target, { wan: [{ name: 'wan0', mode: 'dhcp', priority: round + 1 }], lan: [] }),
  );
  times.push(performance.now() - started);
  const gauge = await registry.getSingleMetric('opensag_last_mutation_recompiled_gateways')?.get();
  recompiled = gauge?.values[0]?.value ?? Number.NaN;
  revisions = committed?.configs.length ?? Number.NaN;
}
console.log(
  `B2 one gateway's ports changed: median ${median(times).toFixed(2)} ms per mutation (${ROUNDS} rounds, min ${Math.min(...times).toFixed(2)}, max ${Math.max(...times).toFixed(2)}); recompiled ${recompiled} gateway(s), ${revisions} new revision(s); target ≤ 50 ms`,
);
