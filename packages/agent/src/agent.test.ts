import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cloudTopic,
  decodeAck,
  decodeEvent,
  decodeHello,
  decodeProbe,
  decodeReport,
  deviceTopic,
  encodeDesiredConfig,
  probeReply,
} from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from './agent.js';
import { readStatus } from './agentStatus.js';
import { saveLastKnownGood } from './apply/lastKnownGood.js';
import type { DeviceConfig } from './config.js';
import { type DeviceIdentity, initIdentity } from './identity/identity.js';
import { eventually, TestBroker } from './testing/aedesBroker.js';
import { sampleConfig } from './testing/sampleConfig.js';

const SN = 'SN-HZ-0001';

/** A UDP probe responder, as the broker's embedded access point runs one. */
async function startResponder(): Promise<{ address: string; close: () => Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    const probe = decodeProbe(message);
    if (probe?.type === 'request') socket.send(probeReply(probe), remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let stateDir: string;
let identity: DeviceIdentity;
let responders: Awaited<ReturnType<typeof startResponder>>[];
let agents: Agent[];
let broker: TestBroker | null;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sag-agent-'));
  identity = await initIdentity(stateDir, SN);
  responders = [await startResponder(), await startResponder()];
  agents = [];
  broker = null;
});

afterEach(async () => {
  for (const agent of agents) await agent.close();
  await broker?.stop();
  for (const responder of responders) await responder.close().catch(() => undefined);
  await rm(stateDir, { recursive: true, force: true });
});

function branchConfig(overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  return sampleConfig({
    tunnels: [
      { accessPoint: 'ap-sh-1', address: responders[0].address, role: 'active' },
      { accessPoint: 'ap-sh-2', address: responders[1].address, role: 'standby' },
    ],
    keepalive: { intervalMs: 100, multiplier: 3, lossWindow: 10, holdDownMs: 5000 },
    ...overrides,
  });
}

async function start(brokerUrl: string, reportIntervalMs = 10_000): Promise<Agent> {
  const agent = await startAgent({
    stateDir,
    brokerUrl,
    dataplane: 'emulated',
    role: 'branch',
    keepaliveSeconds: 5,
    reportIntervalMs,
    backoff: { baseMs: 20, capMs: 200 },
  });
  agents.push(agent);
  return agent;
}

async function stopAgent(agent: Agent): Promise<void> {
  await agent.close();
  agents = agents.filter((a) => a !== agent);
}

const tunnelStatus = (agent: Agent, accessPoint: string) =>
  agent.tunnels().find((t) => t.accessPoint === accessPoint)?.status;

describe('startAgent', () => {
  it('applies last-known-good and watches its tunnels before it ever reaches the broker', async () => {
    await saveLastKnownGood(stateDir, branchConfig({ revision: 12, hash: 'h12' }));
    const agent = await start(`mqtt://127.0.0.1:${await closedPort()}`);
    expect(agent.boot).toEqual({ result: 'applied', revision: 12, hash: 'h12' });
    expect(agent.dataPlane.snapshot()).toMatchObject({ revision: 12, hash: 'h12' });
    const written = await readStatus(stateDir);
    if (!('status' in written)) throw new Error(written.error);
    expect(written.status).toMatchObject({
      revision: 12,
      hash: 'h12',
      serialNumber: SN,
      agentState: 'running',
    });
    expect(written.status.routes.map((r) => r.destination)).toContain('10.1.0.0/16');
    expect(written.status.aclRules.map((r) => r.id)).toEqual(['aclr-1']);
    expect(written.status.broker.state).not.toBe('connected');
    await eventually(() => tunnelStatus(agent, 'ap-sh-1') === 'up', 5000, 'the active tunnel to come up');
    expect(agent.dataPlane.snapshot().tunnels.find((t) => t.accessPoint === 'ap-sh-1')).toMatchObject({
      status: 'up',
      carrying: true,
    });
  });

  it('keeps its config and tunnels through a broker outage and applies last-known-good at once on restart', async () => {
    broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]) });
    const first = await start(broker.url);
    await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1, 5000, 'hello');
    expect(decodeHello(broker.on(deviceTopic(SN, 'hello'))[0].payload).state).toBe('waiting-for-activation');
    await broker.publish(
      cloudTopic(SN, 'config'),
      encodeDesiredConfig(branchConfig({ revision: 3, hash: 'h3' })),
    );
    await eventually(() => broker?.on(deviceTopic(SN, 'ack')).length === 1, 5000, 'ack');
    expect(decodeAck(broker.on(deviceTopic(SN, 'ack'))[0].payload)).toMatchObject({
      revision: 3,
      result: 'APPLIED',
    });
    await eventually(() => tunnelStatus(first, 'ap-sh-1') === 'up', 5000, 'tunnel up');

    const { port, seenNonces } = broker;
    await broker.stop();
    broker = null;
    await eventually(() => first.session.connection.state !== 'connected', 5000, 'link down');
    const probesBefore = first.tunnels()[0].probesSent;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(first.dataPlane.snapshot().revision).toBe(3);
    expect(first.tunnels()[0].probesSent).toBeGreaterThan(probesBefore);
    expect(tunnelStatus(first, 'ap-sh-1')).toBe('up');
    await first.saveStatus();
    const during = await readStatus(stateDir);
    expect(during).toMatchObject({
      status: { revision: 3, broker: { state: expect.not.stringMatching(/^connected$/) } },
    });

    await stopAgent(first);
    const second = await start(`mqtt://127.0.0.1:${port}`);
    expect(second.boot).toMatchObject({ result: 'applied', revision: 3 });
    expect(await readStatus(stateDir)).toMatchObject({ status: { revision: 3, hash: 'h3' } });

    broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]), port, seenNonces });
    const hello = await eventually(
      () => broker?.on(deviceTopic(SN, 'hello'))[0],
      5000,
      'hello after the outage',
    );
    expect(decodeHello(hello.payload)).toMatchObject({
      appliedRevision: 3,
      appliedHash: 'h3',
      state: 'running',
    });
    await eventually(() => second.session.connection.state === 'connected');
    await second.saveStatus();
    expect(await readStatus(stateDir)).toMatchObject({ status: { broker: { state: 'connected' } } });
  });

  it('reports tunnel failover as events and the keepalive figures in its report', async () => {
    broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]) });
    const agent = await start(broker.url, 100);
    await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1);
    await broker.publish(cloudTopic(SN, 'config'), encodeDesiredConfig(branchConfig()));
    await eventually(
      () => tunnelStatus(agent, 'ap-sh-1') === 'up' && tunnelStatus(agent, 'ap-sh-2') === 'up',
    );
    await responders[0].close();
    const events = () => (broker?.on(deviceTopic(SN, 'event')) ?? []).map((e) => decodeEvent(e.payload));
    await eventually(() => events().some((e) => e.kind === 'FAILOVER'), 5000, 'the failover event');
    expect(events().map((e) => `${e.kind} ${e.accessPoint}`)).toEqual(
      expect.arrayContaining(['TUNNEL_UP ap-sh-1', 'TUNNEL_DOWN ap-sh-1', 'FAILOVER ap-sh-2']),
    );
    expect(events().find((e) => e.kind === 'TUNNEL_DOWN')?.detail).toContain('3 probes in a row');
    const lastReport = () => {
      const reports = broker?.on(deviceTopic(SN, 'report')) ?? [];
      return reports.length > 0 ? decodeReport(reports[reports.length - 1].payload) : undefined;
    };
    const report = await eventually(
      () => {
        const r = lastReport();
        return r?.tunnels.find((t) => t.accessPoint === 'ap-sh-2')?.carryingTraffic ? r : undefined;
      },
      5000,
      'a report after the failover',
    );
    expect(report.appliedRevision).toBe(1);
    expect(report.tunnels.find((t) => t.accessPoint === 'ap-sh-1')).toMatchObject({ state: 'down' });
    expect(report.tunnels.find((t) => t.accessPoint === 'ap-sh-1')?.lossPct).toBeGreaterThan(0);
    expect(agent.dataPlane.snapshot().tunnels.find((t) => t.carrying)?.accessPoint).toBe('ap-sh-2');
  });
});
