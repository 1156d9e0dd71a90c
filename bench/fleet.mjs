// B1 convergence, B3 broker memory and B4 storms: the real broker as a child process, N
// simulated gateways (packages/agent/dist/simulate) in this process, and beside them, in the same
// run, a plain aedes child with N plain MQTT.js clients as the reference.
// Usage: npm run build && node bench/fleet.mjs [--quick] [--gateways 1000,10000] [--rounds 5]
//   [--concurrency 200] [--state-dir DIR] [--profile DIR] [--json FILE] [--log-level info]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFleetIdentities } from '../packages/agent/dist/simulate/fleetIdentities.js';
import { encodeAck, encodeDesiredConfig } from '../packages/proto/dist/index.js';
import { api, brokerPlan, startBrokerChild } from './lib/broker.mjs';
import { activationStorm, connectedMemory, convergence, restartStorm } from './lib/brokerPhases.mjs';
import { killAll, openFilesLimits, sleep } from './lib/children.mjs';
import { memorySample } from './lib/memory.mjs';
import { formatSummary, summariseProfile } from './lib/profileSummary.mjs';
import { runReference } from './lib/rawAedes.mjs';
import { seedFleet } from './lib/seed.mjs';
import { seedThroughStore } from './lib/seedStore.mjs';
import { kb, mb, median, ms, ratio, times } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    gateways: { type: 'string' },
    rounds: { type: 'string' },
    // The simulator's own default. At 1,000 in flight a 10,000-device storm on 2 cores queued
    // CONNECTs past the 10 s connect timeouts (simulator event loop stalled ~3 s), so devices
    // dropped and retried; 200 keeps the same throughput with no failed attempt.
    concurrency: { type: 'string', default: '200' },
    'seed-concurrency': { type: 'string', default: '64' },
    // api: through /v1 (create, bind, CCN, activate); store: one commit with the broker stopped.
    seed: { type: 'string' },
    'report-interval-ms': { type: 'string', default: '10000' },
    'state-dir': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'timeout-ms': { type: 'string', default: '600000' },
  },
});
const SIZES = (values.gateways ?? (values.quick ? '1000' : '1000,10000')).split(',').map(Number);
const ROUNDS = Number(values.rounds ?? (values.quick ? 3 : 5));
const CONCURRENCY = Number(values.concurrency);
const TIMEOUT_MS = Number(values['timeout-ms']);
const REPORT_INTERVAL_MS = Number(values['report-interval-ms']);
const stateRoot = values['state-dir'] ?? mkdtempSync(join(tmpdir(), 'sag-bench-fleet-'));
const profileDir = values.profile ?? null;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const log = (line) => console.error(`fleet: ${line}`);

function checkOpenFiles(count) {
  const own = openFilesLimits();
  const needed = count + 100;
  if (own && own.soft < needed) {
    throw new Error(
      `${count} gateways need about ${needed} open files in this process but \`ulimit -n\` is ${own.soft}; run \`ulimit -n ${Math.min(own.hard, 65536)}\` first${own.hard < needed ? ` (and raise the hard limit ${own.hard})` : ''}`,
    );
  }
  if (own && own.hard < needed) {
    throw new Error(
      `the broker child needs ${needed} open files but the hard limit (ulimit -Hn) is ${own.hard}`,
    );
  }
}

/** The size of a real pushed config and of its ack, as the devices receive and send them. */
async function payloadSizes(call, gatewayId) {
  const view = await call('GET', `/gateways/${gatewayId}/config`);
  const config = view.config ?? view;
  const payload = encodeDesiredConfig({ ...config, revision: view.revision, hash: view.hash });
  const ack = encodeAck({ revision: view.revision, hash: view.hash, result: 'APPLIED', error: '' });
  return { payloadBytes: payload.length, ackBytes: ack.length, routes: config.routes?.length ?? 0 };
}

async function measure(count) {
  checkOpenFiles(count);
  const dir = join(stateRoot, `n${count}`);
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const { identities } = await loadFleetIdentities(join(stateRoot, 'identities'), count);
  log(`${count} identities in ${ms(performance.now() - started)}`);
  const plan = await brokerPlan({
    dir,
    dataDir: join(dir, 'data'),
    gateways: count,
    logLevel: values['log-level'],
  });

  // Provision (or reuse) the fleet, and read what one pushed config weighs.
  const seedMode = values.seed ?? (count > 2000 ? 'store' : 'api');
  const stored = seedMode === 'store' ? seedThroughStore({ dir, dataDir: plan.dataDir, identities }) : null;
  let broker = await startBrokerChild(plan);
  const call = api(broker.httpUrl);
  const seed =
    stored ??
    (await seedFleet({
      call,
      dir,
      identities,
      concurrency: Number(values['seed-concurrency']),
      progress: log,
    }));
  log(
    seed.reused
      ? `fleet of ${count} reused from ${dir}`
      : `fleet of ${count} seeded (${seedMode}) in ${ms(seed.elapsedMs)}; broker up in ${ms(broker.readyMs)}`,
  );
  const sizes = await payloadSizes(call, seed.gateways[identities[0].serialNumber]);
  await broker.stop();

  log(
    `raw aedes reference: ${count} clients, ${sizes.payloadBytes}-byte messages, ${sizes.ackBytes}-byte acks`,
  );
  const reference = await runReference({
    count,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    payloadBytes: sizes.payloadBytes,
    ackBytes: sizes.ackBytes,
    dir,
    profile: profileDir,
    progress: log,
  });

  log(`broker: starting on ${plan.dataDir}`);
  broker = await startBrokerChild(plan);
  await sleep(2000);
  const idleRss = await memorySample(broker.pid, broker.inspector);
  let tracker = null;
  try {
    log(`B4 activation storm: ${count} devices, ${CONCURRENCY} CONNECTs in flight`);
    const storm = await activationStorm({
      broker,
      identities,
      concurrency: CONCURRENCY,
      reportIntervalMs: REPORT_INTERVAL_MS,
      profile: profileDir,
      timeoutMs: TIMEOUT_MS,
      progress: log,
    });
    tracker = storm.tracker;
    const syncedRss = await connectedMemory({ broker });
    log(`B1: ${ROUNDS} rounds`);
    const b1 = await convergence({
      broker,
      call,
      seed,
      tracker,
      rounds: ROUNDS,
      profile: profileDir,
      timeoutMs: TIMEOUT_MS,
    });
    log('B4 restart: SIGTERM to the broker, then start it again');
    let restart;
    try {
      restart = await restartStorm({ broker, plan, tracker, profile: profileDir, timeoutMs: TIMEOUT_MS });
      broker = restart.broker;
    } catch (err) {
      // The other figures stand; say why this one is missing, with the broker's own last words.
      restart = { result: { error: `${err.message}${brokerCrash(plan.logFile)}` } };
    }
    return {
      count,
      sizes,
      seed: { mode: seedMode, reused: seed.reused, ms: seed.elapsedMs },
      reference,
      idleRss,
      syncedRss,
      storm: storm.result,
      b1,
      restart: restart.result,
    };
  } finally {
    if (tracker) await tracker.close().catch(() => undefined);
    await broker.stop();
  }
}

/** The first line of the last uncaught error in a broker log, if the broker died of one. */
function brokerCrash(logFile) {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const at = lines.findLastIndex((line) => /^[A-Za-z]*Error: /.test(line));
  return at >= 0 ? `; the broker died: ${lines[at]} (${lines[at + 1]?.trim()}; see ${logFile})` : '';
}

function report(r) {
  const ref = r.reference;
  const refB1 = median(ref.deliveries);
  const n = r.count;
  console.log(
    `B1 ${n} gateways, one VPC attached to / detached from their CEN (every config changes; ${r.sizes.payloadBytes}-byte config, ${r.sizes.routes} route(s)): median ${ms(r.b1.medianMs)} from the 2xx to the last ack taken by the broker (${ROUNDS} rounds: ${r.b1.samples.map((s) => Math.round(s.fromOkMs)).join(', ')} ms; from the request ${ms(r.b1.medianFromRequestMs)}, the HTTP call itself ${ms(r.b1.medianHttpMs)})`,
  );
  console.log(
    `B1 ${n} raw aedes: ${ref.deliveredTo} × ${r.sizes.payloadBytes}-byte QoS 1 messages and ${r.sizes.ackBytes}-byte QoS 1 acks back: median ${ms(refB1)} (${ref.deliveries.map(Math.round).join(', ')} ms); ratio ${times(ratio(r.b1.medianMs, refB1))} (target ≤ 1.5×)`,
  );
  const perGateway = (r.syncedRss - r.idleRss) / n;
  const refPer = (ref.memory.after - ref.memory.before) / (n - ref.storm.failures);
  console.log(
    `B3 ${n} gateways: broker RSS after GC ${mb(r.idleRss)} before any device, ${mb(r.syncedRss)} with all connected and in sync → ${kb(perGateway)} per gateway (target ≤ 30 KB); raw aedes ${mb(ref.memory.before)} → ${mb(ref.memory.after)}: ${kb(refPer)} per idle connection; ratio ${times(ratio(perGateway, refPer))}`,
  );
  const s = r.storm;
  const refConnect = ref.storm.connackMs;
  console.log(
    `B4 ${n} gateways activating at once (${CONCURRENCY} CONNECTs in flight): all in sync ${ms(s.inSyncMs)} (all connected ${ms(s.connectedMs)}), peak ${s.peakPerSecond} connections/s, refusals ${s.refusals}${s.refusals ? ` ${JSON.stringify(s.refusalReasons)}` : ''}; raw aedes: all CONNACKed ${ms(refConnect)} (subscribed ${ms(ref.storm.subscribedMs)}), peak ${ref.storm.peakPerSecond}/s, failures ${ref.storm.failures}${ref.storm.failures ? ` (e.g. ${ref.storm.firstFailure})` : ''}; ratio ${times(ratio(s.inSyncMs, refConnect))} (target ≤ 2×)`,
  );
  const b = r.restart;
  if (b.error) {
    console.log(`B4 ${n} gateways after a broker restart: not measured: ${b.error}`);
    return;
  }
  console.log(
    `B4 ${n} gateways after a broker restart: broker stopped in ${ms(b.stopMs)}, up again (/healthz) in ${ms(b.brokerReadyMs)}; all reconnected ${ms(b.connectedAfterReadyMs)} after it was up (${ms(b.connectedAfterKillMs)} after SIGTERM; ${ms(b.herdMs)} from the first device back, ${ms(b.firstConnectedAfterDownMs)} after the old broker exited, to the last), all online and in sync per /metrics ${ms(b.inSyncAfterReadyMs)} after; peak ${b.peakPerSecond} connections/s, refusals after it was up ${b.refusals}${b.refusals ? ` ${JSON.stringify(b.refusalReasons)}` : ''}; ratio ${times(ratio(b.connectedAfterReadyMs, refConnect))} of the raw aedes connect (target ≤ 2×; the agent's reconnect back-off sets the pace: full jitter, up to 5 s while the broker refused connections)`,
  );
}

function printProfiles() {
  if (!profileDir) return;
  for (const file of readdirSync(profileDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const summary = summariseProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')), 15);
    console.log(formatSummary(summary, `profile ${file}`));
  }
}

const results = [];
try {
  for (const count of SIZES) {
    const result = await measure(count);
    report(result);
    results.push(result);
  }
  printProfiles();
  const summary = { gateways: SIZES, rounds: ROUNDS, concurrency: CONCURRENCY, results };
  const json = JSON.stringify(summary, (key, value) => (key === 'clients' ? undefined : value));
  if (values.json) writeFileSync(values.json, `${json}\n`);
  console.log(`fleet summary: ${json}`);
} catch (err) {
  console.error(`fleet: ${err.message} (state and logs in ${stateRoot})`);
  process.exitCode = 1;
} finally {
  killAll();
  if (!values['state-dir'] && process.exitCode !== 1) rmSync(stateRoot, { recursive: true, force: true });
  // MQTT.js timers and sockets of a failed phase must not keep the process alive.
  process.exit();
}
