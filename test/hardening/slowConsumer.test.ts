import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../../packages/agent/src/simulate/fleet.js';
import { loadFleetIdentities } from '../../packages/agent/src/simulate/fleetIdentities.js';
import { type ApiEvent, type Cloud, cloudApi, events, orderGatewayFor } from '../support/cloud.js';
import { connectAs, proofOf, testDevice } from '../support/deviceClient.js';
import { Lab } from '../support/lab.js';
import { tempDir } from '../support/processes.js';
import { sleep, waitFor } from '../support/waitFor.js';

/** Well-behaved devices (the agent's own session code, in this process) beside the stalled one. */
const GOOD_DEVICES = 4;
/** VPCs of five /24 blocks on the CEN: every gateway's config carries 5 × VPCS routes. */
const VPCS = 120;
/** Bounds asserted below. */
const MAX_ROUND_MS = 2000;
/** Observed: 132 MB before, 244 MB at the peak of the churn (mostly V8 heap of compiling and encoding). */
const MAX_RSS_BYTES = 320 * 1024 * 1024;
/**
 * The kernel takes about 4 MB for a socket nobody reads (tcp_wmem) before anything waits in the
 * broker; from then on the broker's stall limit (OUTPUT_LIMITS.stallMs) is 10 s, and aedes' own
 * drain timeout 20 s.
 */
const DROPPED_WITHIN_MS = 30_000;

const lab = new Lab();
let fleet: Fleet | null = null;
afterEach(async () => {
  await fleet?.close();
  fleet = null;
  await lab.cleanup();
});

/** A CEN carrying VPCS VPCs, and a CCN on it that every gateway joins: big configs, one toggle. */
async function bigNetwork(cloud: Cloud) {
  const cen = await cloud.post<{ id: string }>('/v1/cens', { name: 'Backbone' });
  for (let v = 1; v <= VPCS; v++) {
    const vpc = await cloud.post<{ id: string }>('/v1/vpcs', {
      name: `VPC ${v}`,
      region: 'cn-shanghai',
      cidrBlocks: [0, 1, 2, 3, 4].map((b) => `10.${v}.${b}.0/24`),
    });
    await cloud.post(`/v1/cens/${cen.id}/attachments`, { instanceType: 'vpc', instanceId: vpc.id });
  }
  const toggle = await cloud.post<{ id: string }>('/v1/vpcs', {
    name: 'Toggled VPC',
    region: 'cn-shanghai',
    cidrBlocks: ['10.200.0.0/16'],
  });
  const ccn = await cloud.post<{ id: string }>('/v1/ccns', { name: 'Branches', area: 'china-mainland' });
  await cloud.post(`/v1/cens/${cen.id}/attachments`, { instanceType: 'ccn', instanceId: ccn.id });
  let attached = false;
  return {
    ccnId: ccn.id,
    /** One mutation that changes every gateway's config (a VPC's routes come or go). */
    async toggle() {
      if (attached) await cloud.delete(`/v1/cens/${cen.id}/attachments/${toggle.id}`);
      else await cloud.post(`/v1/cens/${cen.id}/attachments`, { instanceType: 'vpc', instanceId: toggle.id });
      attached = !attached;
    },
  };
}

async function joinAndActivate(
  cloud: Cloud,
  ccnId: string,
  name: string,
  device: { serialNumber: string; publicKey: string },
) {
  const gatewayId = await orderGatewayFor(cloud, name, device);
  await cloud.post(`/v1/ccns/${ccnId}/gateways`, { gatewayId });
  await cloud.post(`/v1/gateways/${gatewayId}/activate`);
  return gatewayId;
}

/**
 * A device that connects properly, subscribes to its config, then stops reading its socket: the
 * kernel's buffers fill and whatever the broker writes next waits in the broker.
 */
async function stalledDevice(mqttUrl: string, serialNumber: string, password: string): Promise<MqttClient> {
  const outcome = await connectAs(mqttUrl, serialNumber, password, {
    // The longest keepalive the broker takes, so presence does not end the session first.
    extra: { keepalive: 300 },
    track: (client) => lab.client(client),
  });
  if (!outcome.connected) throw new Error(`the stalled device was refused: ${outcome.error.message}`);
  const { client } = outcome;
  await client.subscribeAsync([`sag/v1/c/${serialNumber}/config`, `sag/v1/c/${serialNumber}/cmd`], {
    qos: 1,
  });
  const socket = client.stream as Socket;
  socket.unpipe();
  socket.pause();
  return client;
}

const rssOf = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

describe('a device that stops reading its socket', () => {
  it('does not stall the others, keeps the broker small, and is dropped with a reason and an event', async () => {
    const broker = await lab.broker();
    const cloud = cloudApi(broker);
    const network = await bigNetwork(cloud);

    const { identities } = await loadFleetIdentities(tempDir('slow-consumer-fleet'), GOOD_DEVICES);
    for (const identity of identities)
      await joinAndActivate(cloud, network.ccnId, `Branch ${identity.serialNumber}`, identity);
    const slow = testDevice('SAGSLOW-0001');
    const slowGatewayId = await joinAndActivate(cloud, network.ccnId, 'Stalled branch', slow);

    // What each good device acked last; a round ends when all acked something newer.
    const acked = new Array(GOOD_DEVICES).fill(0);
    fleet = await startFleet({
      identities,
      brokerUrl: broker.mqttUrl,
      concurrency: GOOD_DEVICES,
      reportIntervalMs: 60_000,
      keepaliveSeconds: 30,
      settleTimeoutMs: 30_000,
      onMilestone: (m) => {
        if (m.kind === 'acked' && m.result === 'APPLIED')
          acked[m.index] = Math.max(acked[m.index], m.revision);
      },
    });
    const settled = await fleet.settled;
    expect(settled.inSync).toBe(GOOD_DEVICES);
    await waitFor('the good devices to ack their first config', () => acked.every((r) => r > 0));

    await stalledDevice(broker.mqttUrl, slow.serialNumber, proofOf(slow));
    const routes = (
      await cloud.get<{ config: { routes: unknown[] } }>(`/v1/gateways/${slowGatewayId}/config`)
    ).config.routes.length;

    const pid = broker.child.pid as number;
    await sleep(500);
    const rssBefore = rssOf(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(pid));
    }, 100);

    // Meanwhile the stalled gateway alone changes as fast as the API takes it: each change is a
    // full config for a device that reads none of them.
    let churning = true;
    let churned = 0;
    const churn = (async () => {
      while (churning) {
        await cloud.put(`/v1/gateways/${slowGatewayId}/ports`, {
          wan: [{ name: 'wan0', mode: 'dhcp', priority: (churned % 50) + 1 }],
          lan: [],
        });
        churned++;
      }
    })();

    const rounds: number[] = [];
    const startedAt = performance.now();
    let droppedAt: number | null = null;
    let roundsAfterDrop = 0;
    let dropEvents: ApiEvent[] = [];
    try {
      while (roundsAfterDrop < 5 && performance.now() - startedAt < DROPPED_WITHIN_MS + 5_000) {
        const baseline = acked.slice();
        await network.toggle();
        const okAt = performance.now();
        await waitFor(
          'every good device to ack the new config',
          () => acked.every((revision, i) => revision > baseline[i]),
          { timeoutMs: 10_000, intervalMs: 5 },
        );
        rounds.push(performance.now() - okAt);
        if (droppedAt === null) {
          dropEvents = (await events(cloud, { resourceId: slowGatewayId, category: 'device' })).filter(
            (e) => e.action === 'device.slow-consumer' || e.action === 'device.offline',
          );
          if (dropEvents.length >= 2) droppedAt = performance.now();
        } else roundsAfterDrop++;
      }
    } finally {
      clearInterval(sampler);
      churning = false;
      await churn;
    }

    const figures = {
      routes,
      stalledGatewayChanges: churned,
      rounds: rounds.length,
      medianRoundMs: Math.round(percentile(rounds, 50)),
      p95RoundMs: Math.round(percentile(rounds, 95)),
      maxRoundMs: Math.round(Math.max(...rounds)),
      droppedAfterMs: droppedAt === null ? null : Math.round(droppedAt - startedAt),
      rssBeforeMb: Math.round(rssBefore / 2 ** 20),
      rssPeakMb: Math.round(rssPeak / 2 ** 20),
    };
    console.log(`slow consumer: ${JSON.stringify(figures)}`);

    // The stalled device was dropped by the broker, saying why, well before aedes' own drain timeout.
    expect(droppedAt, JSON.stringify(dropEvents)).not.toBeNull();
    expect(figures.droppedAfterMs).toBeLessThan(DROPPED_WITHIN_MS);
    const slowConsumer = dropEvents.find((e) => e.action === 'device.slow-consumer');
    expect(slowConsumer?.details?.reason).toMatch(/^the device is not reading/);
    const offline = dropEvents.find((e) => e.action === 'device.offline');
    expect(offline?.details?.reason).toMatch(/^the device is not reading/);
    const warning = broker
      .logEntries()
      .find((entry) => String(entry.msg).startsWith('dropping a device that does not read'));
    expect(warning).toMatchObject({ level: 40, serialNumber: slow.serialNumber });
    const status = await cloud.get<{ presence: string }>(`/v1/gateways/${slowGatewayId}/status`);
    expect(status.presence).toBe('offline');

    // The others stayed in sync every round, with bounded latency, before and after the drop.
    expect(roundsAfterDrop).toBe(5);
    expect(figures.maxRoundMs).toBeLessThan(MAX_ROUND_MS);
    expect(rssPeak).toBeLessThan(MAX_RSS_BYTES);
  }, 60_000);
});
