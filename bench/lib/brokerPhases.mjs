// The phases run against the OpenSAG broker child: B4 activation storm, B3 memory, B1
// convergence rounds and B4 reconnection after a restart. Every time is performance.now() here.
import { join } from 'node:path';
import { fleetGauges, startBrokerChild } from './broker.mjs';
import { sleep, waitFor } from './children.mjs';
import { memorySample } from './memory.mjs';
import { median } from './stats.mjs';
import { startTrackedFleet } from './trackedFleet.mjs';

const profiled = async (broker, profile, name, run) => {
  if (profile) await broker.inspector.startProfile();
  try {
    return await run();
  } finally {
    if (profile) await broker.inspector.stopProfile(join(profile, name)).catch(() => undefined);
  }
};

/** Why attempts failed, counted by reason. */
const reasons = (disconnects) => {
  const counts = {};
  for (const d of disconnects)
    counts[d.reason ?? 'connection closed'] = (counts[d.reason ?? 'connection closed'] ?? 0) + 1;
  return counts;
};

/** B4 (a): every device starts at once; until each has acked its first config. */
export async function activationStorm({
  broker,
  identities,
  concurrency,
  reportIntervalMs,
  profile,
  timeoutMs,
  progress = () => undefined,
}) {
  const count = identities.length;
  let tracker;
  let ticker;
  const result = await profiled(broker, profile, `broker-${count}-b4-activation.cpuprofile`, async () => {
    tracker = await startTrackedFleet({
      identities,
      brokerUrl: broker.mqttUrl,
      concurrency,
      reportIntervalMs,
    });
    ticker = setInterval(() => progress(`B4 activation storm: ${tracker.status()}`), 5000);
    const startedAt = tracker.fleet.startedAtMs;
    const lastAck = await tracker
      .roundDone(timeoutMs, 'B4 activation storm')
      .finally(() => clearInterval(ticker));
    const lastConnected = await tracker.allConnected(timeoutMs, 'B4 activation storm');
    return {
      simulatorLoopDelay: tracker.takeLoopDelay(),
      inSyncMs: lastAck - startedAt,
      connectedMs: lastConnected - startedAt,
      peakPerSecond: tracker.peakConnectionsPerSecond(startedAt),
      refusals: tracker.disconnects.length,
      refusalReasons: reasons(tracker.disconnects),
    };
  });
  const gauges = await fleetGauges(broker.httpUrl);
  return { tracker, result: { ...result, brokerSays: gauges } };
}

/** B3: the broker's RSS (after a full GC) with every device connected and in sync. */
export async function connectedMemory({ broker }) {
  await sleep(3000);
  return memorySample(broker.pid, broker.inspector);
}

/** B1: rounds of attaching / detaching the toggle VPC, each reaching every gateway. */
export async function convergence({ broker, call, seed, tracker, rounds, profile, timeoutMs }) {
  const vpc = await call('GET', `/vpcs/${seed.toggleVpcId}`);
  let attached = vpc.cenId !== null;
  const samples = [];
  await profiled(broker, profile, `broker-${tracker.count}-b1-convergence.cpuprofile`, async () => {
    for (let round = 0; round < rounds; round++) {
      tracker.beginRound();
      const sentAt = performance.now();
      if (attached) await call('DELETE', `/cens/${seed.cenId}/attachments/${seed.toggleVpcId}`);
      else
        await call('POST', `/cens/${seed.cenId}/attachments`, {
          instanceType: 'vpc',
          instanceId: seed.toggleVpcId,
        });
      const okAt = performance.now();
      attached = !attached;
      const lastAck = await tracker.roundDone(timeoutMs, `B1 round ${round + 1}`);
      samples.push({ fromOkMs: lastAck - okAt, fromRequestMs: lastAck - sentAt, httpMs: okAt - sentAt });
      await sleep(1000);
    }
  });
  return {
    samples,
    medianMs: median(samples.map((s) => s.fromOkMs)),
    medianFromRequestMs: median(samples.map((s) => s.fromRequestMs)),
    medianHttpMs: median(samples.map((s) => s.httpMs)),
  };
}

/**
 * B4 (b): SIGTERM to the broker, started again on the same data directory and ports; until every
 * device is connected again and the broker counts every gateway online and in sync.
 */
export async function restartStorm({ broker, plan, tracker, profile, timeoutMs }) {
  const count = tracker.count;
  const killAt = performance.now();
  await broker.stop('SIGTERM');
  const downAt = performance.now();
  await waitFor(async () => tracker.connected === 0, {
    timeoutMs: 60_000,
    everyMs: 20,
    what: `the devices to notice the broker is gone (${tracker.connected} still connected)`,
  });
  const next = await startBrokerChild(plan);
  const readyAt = performance.now();
  const result = await profiled(next, profile, `broker-${count}-b4-restart.cpuprofile`, async () => {
    const lastConnected = await tracker.allConnected(timeoutMs, 'B4 reconnection after a restart');
    await waitFor(
      async () => {
        const gauges = await fleetGauges(next.httpUrl);
        return gauges.online === count && gauges.inSync === count;
      },
      { timeoutMs, everyMs: 200, what: `the restarted broker to count ${count} gateways online and in sync` },
    );
    const inSyncAt = performance.now();
    const refusals = tracker.refusalsSince(readyAt);
    // /healthz answers late while the herd floods the broker; its first CONNACK tells when it was up.
    const firstConnected = tracker.connectedAt.find((t) => t >= downAt) ?? lastConnected;
    return {
      firstConnectedAfterDownMs: firstConnected - downAt,
      herdMs: lastConnected - firstConnected,
      stopMs: downAt - killAt,
      brokerReadyMs: readyAt - downAt,
      connectedAfterReadyMs: lastConnected - readyAt,
      connectedAfterKillMs: lastConnected - killAt,
      inSyncAfterReadyMs: inSyncAt - readyAt,
      peakPerSecond: tracker.peakConnectionsPerSecond(readyAt),
      refusals: refusals.length,
      refusalReasons: reasons(refusals),
    };
  });
  return { broker: next, result };
}
