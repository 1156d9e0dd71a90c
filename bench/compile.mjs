// B2, incremental compile: a fleet of N gateways (CCNs of 10, ten CCNs and one VPC per CEN), then
// one mutation that touches one gateway. Prints the broker's start-up recompile, and per round the
// compile time of the mutation and how many gateways it recompiled and gave a new revision.
// --edges: also two edge-run access points, and a mutation that reaches them (a gateway's blocks),
// with the store's share (it writes both edge configs whole) printed on its own.
// --fleet: the broker's side of B1 instead: every gateway in CCNs of ONE CEN with one VPC, no
// private blocks (small configs: about 200 bytes), a SQLite store, and a mutation that attaches or
// detaches a second VPC (every config changes). Prints compile + store, then encode + publish to
// an aedes broker without subscribers, then handling one ack per gateway and writing them.
// Usage: npm run build && node bench/compile.mjs [--gateways 10000] [--rounds 9] [--edges | --fleet]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeAck } from '@opensag/proto';
import { Aedes } from 'aedes';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ControlPlane } from '../packages/broker/dist/controlPlane.js';
import { handleAck } from '../packages/broker/dist/devices/ack.js';
import { ConfigPush } from '../packages/broker/dist/devices/push.js';
import {
  attachToCen,
  DEFAULT_QUOTAS,
  detachFromCen,
  emptyTopology,
  setNetwork,
  setPorts,
} from '../packages/broker/dist/domain/index.js';
import { createMetrics } from '../packages/broker/dist/metrics.js';
import { createMemoryStore } from '../packages/broker/dist/store/memory.js';
import { openSqliteStore } from '../packages/broker/dist/store/sqlite.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '10000' },
    rounds: { type: 'string' },
    // Fewer rounds, same fleet (the suite's quick mode).
    quick: { type: 'boolean', default: false },
    // Also two access points run by edge agents, with every gateway's tunnel key reported.
    edges: { type: 'boolean', default: false },
    fleet: { type: 'boolean', default: false },
  },
});
const N = Number(values.gateways);
const ROUNDS = Number(values.rounds ?? (values.quick ? 5 : 9));
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
      ...gatewayFields(id, i),
      privateCidrs: [blockOf(i)],
      ccnId: `ccn-${Math.floor(i / GATEWAYS_PER_CCN)}`,
    });
  }
  return topology;
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const KEEPALIVE = { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 };

if (values.fleet) {
  await fleetWide();
  process.exit(0);
}

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
    keepalive: KEEPALIVE,
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

if (values.edges) {
  // A change that reaches the edges: one gateway's blocks (a second block added, then removed).
  // The store's share is timed on its own: it serialises both edge configs whole (JSON).
  const commit = store.commit.bind(store);
  let storeMs = 0;
  store.commit = (mutation) => {
    const began = performance.now();
    try {
      return commit(mutation);
    } finally {
      storeMs = performance.now() - began;
    }
  };
  const edgeTimes = [];
  const storeTimes = [];
  // CPU time of the process (all its threads) per mutation: less swayed by others on the machine.
  const cpuTimes = [];
  let edgeBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const i = (Math.floor(round / 2) * 7919) % N;
    const target = `sag-${String(i).padStart(6, '0')}`;
    const privateCidrs = round % 2 === 0 ? [blockOf(i), `192.168.${round}.0/24`] : [blockOf(i)];
    const ccnId = topology.gateways.get(target).ccnId;
    const cpuBefore = process.cpuUsage();
    started = performance.now();
    cp.mutate('bench', (t, ctx) => setNetwork(t, ctx, target, { privateCidrs, ccnId }));
    edgeTimes.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuBefore);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    storeTimes.push(storeMs);
    const gauge = await registry.getSingleMetric('opensag_last_mutation_recompiled_gateways')?.get();
    recompiled = gauge?.values[0]?.value ?? Number.NaN;
    revisions = committed?.configs.length ?? Number.NaN;
  }
  edgeBytes = JSON.stringify(cp.configRecord('ap-edge-a').config).length;
  console.log(
    `B2 one gateway's blocks changed (reaches both edges): median ${median(edgeTimes).toFixed(1)} ms per mutation (${ROUNDS} rounds, min ${Math.min(...edgeTimes).toFixed(1)}, max ${Math.max(...edgeTimes).toFixed(1)}); recompiled ${recompiled} gateway(s), ${revisions} new revision(s); target ≤ 50 ms`,
  );
  console.log(
    `B2   CPU time of the broker process per such mutation: median ${median(cpuTimes).toFixed(1)} ms`,
  );
  console.log(
    `B2   of which the store write (both edge configs whole, ${(edgeBytes / 1e6).toFixed(2)} MB of JSON each, and the ${recompiled} gateway configs): median ${median(storeTimes).toFixed(1)} ms`,
  );
}

/** One CEN, one VPC attached (vpc-0) and one not (vpc-1); CCNs of 10 gateways without blocks. */
function oneCenFleet() {
  const topology = emptyTopology();
  topology.cens.set('cen-0', { id: 'cen-0', name: 'cen-0', bandwidthPackages: [], createdAt: CREATED });
  for (const [index, cenId] of [
    [0, 'cen-0'],
    [1, null],
  ]) {
    const id = `vpc-${index}`;
    const cidrBlocks = [`10.${index}.0.0/16`];
    topology.vpcs.set(id, { id, name: id, region: 'cn-shanghai', cidrBlocks, cenId, createdAt: CREATED });
  }
  for (let c = 0; c < Math.ceil(N / GATEWAYS_PER_CCN); c++) {
    const id = `ccn-${c}`;
    topology.ccns.set(id, { id, name: id, area: 'china-mainland', cenId: 'cen-0', createdAt: CREATED });
  }
  for (let i = 0; i < N; i++) {
    const id = `sag-${String(i).padStart(6, '0')}`;
    topology.gateways.set(id, {
      ...gatewayFields(id, i),
      privateCidrs: [],
      ccnId: `ccn-${Math.floor(i / GATEWAYS_PER_CCN)}`,
    });
  }
  return topology;
}

function gatewayFields(id, i) {
  return {
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
    aclId: null,
    ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
  };
}

/** The broker's share of B1: compile + store, encode + publish, acks, each timed on its own. */
async function fleetWide() {
  const dir = mkdtempSync(join(tmpdir(), 'opensag-bench-'));
  const store = openSqliteStore(join(dir, 'opensag.db'));
  const topology = oneCenFleet();
  store.loadTopology = () => topology;
  const registry = new Registry();
  const log = pino({ level: 'silent' });
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let started = performance.now();
  const cp = new ControlPlane({
    store,
    log,
    metrics: createMetrics(registry),
    settings: { enabledAreas: ['china-mainland'], quotas: { ...DEFAULT_QUOTAS, gateways: N } },
    compile: { accessPoints: [{ id: 'ap-1', address: '127.0.0.1:7000' }], keepalive: KEEPALIVE },
    deviceWriteDelayMs: 60_000,
  });
  console.log(`B1 fleet: ${N} gateways in ${topology.ccns.size} CCNs of one CEN, SQLite store`);
  console.log(
    `B1 start-up: every gateway compiled and stored in ${(performance.now() - started).toFixed(0)} ms`,
  );
  const aedes = await Aedes.createBroker();
  const sessions = new Map();
  // Each session's client as push sees it: open, with nothing waiting to be written.
  for (const gateway of topology.gateways.values())
    sessions.set(gateway.serialNumber, {
      serialNumber: gateway.serialNumber,
      gatewayId: gateway.id,
      client: { closed: false, conn: { writableLength: 0 } },
    });
  let published = 0;
  let bytes = 0;
  let allPublished = () => {};
  const base = {
    controlPlane: cp,
    sessions: { bySerial: (serial) => sessions.get(serial) },
    log,
    nowMs: Date.now,
    publish: (topic, payload) =>
      new Promise((resolve, reject) => {
        bytes = payload.length;
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => {
          if (err) reject(err);
          else resolve();
          if (++published === N) allPublished();
        });
      }),
  };
  const push = new ConfigPush(base, { initialRetryMs: 60_000 });
  const ctx = { ...base, push };
  cp.onConfigChanged((record) => push.reconcile(record.gatewayId));
  const times = { mutate: [], publish: [], acks: [] };
  let recompiled = 0;
  let revisions = 0;
  let committed;
  let committedAt = 0;
  // Called once the mutation is durable and before its configs are pushed.
  cp.onCommitted((mutation) => {
    committed = mutation;
    committedAt = performance.now();
  });
  for (let round = 0; round < ROUNDS; round++) {
    published = 0;
    const done = new Promise((resolve) => {
      allPublished = resolve;
    });
    started = performance.now();
    cp.mutate('bench', (t, c) =>
      round % 2 === 0
        ? attachToCen(t, c, 'cen-0', { instanceType: 'vpc', instanceId: 'vpc-1' })
        : detachFromCen(t, c, 'cen-0', 'vpc-1'),
    );
    times.mutate.push(committedAt - started);
    await done;
    times.publish.push(performance.now() - committedAt);
    recompiled = (await registry.getSingleMetric('opensag_last_mutation_recompiled_gateways')?.get())
      ?.values[0]?.value;
    revisions = committed?.configs.length ?? Number.NaN;
    started = performance.now();
    for (const session of sessions.values()) {
      const record = cp.configRecord(session.gatewayId);
      const payload = encodeAck({
        revision: record.revision,
        hash: record.hash,
        result: 'APPLIED',
        error: '',
      });
      handleAck(ctx, session, payload);
    }
    cp.flushDeviceWrites();
    times.acks.push(performance.now() - started);
  }
  const inSync = cp.fleetCounts().gatewaysBySync['in-sync'];
  const figure = (list) =>
    `median ${median(list).toFixed(0)} ms (min ${Math.min(...list).toFixed(0)}, max ${Math.max(...list).toFixed(0)})`;
  console.log(
    `B1 a VPC attached to / detached from the CEN: compile + store ${figure(times.mutate)}; recompiled ${recompiled}, ${revisions} new revision(s) (${ROUNDS} rounds)`,
  );
  console.log(
    `B1 encode + publish ${N} configs of ${bytes} bytes to aedes (no subscribers): ${figure(times.publish)}`,
  );
  console.log(`B1 ${N} acks handled and written: ${figure(times.acks)}; ${inSync} in sync`);
  globalThis.gc?.(); // with --expose-gc: count what is kept, not garbage
  const heap = process.memoryUsage();
  // Heap after a collection bounds the broker's own state per gateway (configs, hashes, device
  // state, pending pushes); RSS also counts SQLite's cache and the heap's free space.
  console.log(
    `B1 memory: heap used ${(heap.heapUsed / N / 1024).toFixed(1)} KB per gateway (${(heap.heapUsed / 1024 / 1024).toFixed(0)} MB${globalThis.gc ? ', after a collection' : ', run with --expose-gc to collect first'}); RSS +${((heap.rss - rssBefore) / N / 1024).toFixed(1)} KB per gateway since before the start-up compile`,
  );
  push.close();
  await new Promise((resolve) => aedes.close(resolve));
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
