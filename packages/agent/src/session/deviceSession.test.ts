import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cloudTopic,
  decodeAck,
  decodeEvent,
  decodeHello,
  decodePresence,
  decodeReport,
  deviceTopic,
  encodeCommand,
  encodeDesiredConfig,
} from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigApplier } from '../apply/applier.js';
import { loadLastKnownGood } from '../apply/lastKnownGood.js';
import type { DeviceConfig } from '../config.js';
import { EmulatedDataPlane } from '../dataplane/emulated/emulatedDataPlane.js';
import { type DeviceIdentity, initIdentity } from '../identity/identity.js';
import { eventually, TestBroker } from '../testing/aedesBroker.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { DeviceSession, type DeviceSessionOptions } from './deviceSession.js';

const SN = 'SN-HZ-0001';
const topic = {
  hello: deviceTopic(SN, 'hello'),
  ack: deviceTopic(SN, 'ack'),
  event: deviceTopic(SN, 'event'),
  presence: deviceTopic(SN, 'presence'),
  report: deviceTopic(SN, 'report'),
  config: cloudTopic(SN, 'config'),
  cmd: cloudTopic(SN, 'cmd'),
};

let stateDir: string;
let identity: DeviceIdentity;
let broker: TestBroker;
let session: DeviceSession | null;
let dataPlane: EmulatedDataPlane;
let applier: ConfigApplier;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sag-session-'));
  identity = await initIdentity(stateDir, SN);
  broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]) });
  dataPlane = new EmulatedDataPlane();
  applier = new ConfigApplier({ stateDir, dataPlane });
  session = null;
});

afterEach(async () => {
  await session?.close();
  await broker.stop();
  await rm(stateDir, { recursive: true, force: true });
});

function startSession(options: Partial<DeviceSessionOptions> = {}): DeviceSession {
  session = new DeviceSession({
    brokerUrl: broker.url,
    identity,
    applier,
    dataPlane,
    dataplane: 'emulated',
    role: 'branch',
    keepaliveSeconds: 5,
    backoff: { baseMs: 20, capMs: 100 },
    ...options,
  });
  session.start();
  return session;
}

const hellos = () => broker.on(topic.hello).map((p) => decodeHello(p.payload));
const acks = () => broker.on(topic.ack).map((p) => decodeAck(p.payload));
const events = () => broker.on(topic.event).map((p) => decodeEvent(p.payload));

async function connected(): Promise<void> {
  await eventually(() => hellos().length > 0, 5000, 'the first hello');
}

function push(config: DeviceConfig): Promise<void> {
  return broker.publish(topic.config, encodeDesiredConfig(config));
}

describe('DeviceSession against a real broker', () => {
  it('authenticates with a valid proof, subscribes to exactly its two cloud topics, and says hello', async () => {
    startSession();
    await connected();
    expect(broker.attempts).toEqual([expect.objectContaining({ clientId: SN, username: SN, ok: true })]);
    expect(broker.subscriptions.map((s) => `${s.clientId} ${s.topic} ${s.qos}`).sort()).toEqual([
      `${SN} ${topic.cmd} 1`,
      `${SN} ${topic.config} 1`,
    ]);
    expect(broker.on(topic.hello)[0]).toMatchObject({ clientId: SN, qos: 1 });
    expect(hellos()[0]).toMatchObject({
      agentVersion: '0.1.0',
      model: 'opensag-emulated',
      appliedRevision: 0,
      appliedHash: '',
      ports: [],
      state: 'waiting-for-activation',
      dataplane: 'emulated',
      role: 'branch',
    });
    expect(session?.connection.state).toBe('connected');
  });

  it('applies a pushed config, persists it and acks the revision and hash', async () => {
    const applied: DeviceConfig[] = [];
    startSession({ onConfigApplied: (config) => applied.push(config) });
    await connected();
    await push(sampleConfig({ revision: 7, hash: 'sha256:seven' }));
    await eventually(() => acks().length === 1, 5000, 'the ack');
    expect(acks()[0]).toMatchObject({ revision: 7, hash: 'sha256:seven', result: 'APPLIED', error: '' });
    expect(dataPlane.snapshot()).toMatchObject({ revision: 7, hash: 'sha256:seven' });
    expect(applied.map((c) => c.revision)).toEqual([7]);
    expect((await loadLastKnownGood(stateDir)).config?.revision).toBe(7);
    expect(session?.agentState).toBe('running');
  });

  it('rolls back and acks rolled-back with the data plane error when the apply fails', async () => {
    startSession();
    await connected();
    await push(sampleConfig({ revision: 1 }));
    await eventually(() => acks().length === 1);
    dataPlane.failNextApply('nftables refused the batch');
    await push(sampleConfig({ revision: 2, hash: 'sha256:two' }));
    await eventually(() => acks().length === 2, 5000, 'the second ack');
    expect(acks()[1]).toMatchObject({ revision: 2, hash: 'sha256:two', result: 'ROLLED_BACK' });
    expect(acks()[1].error).toContain('nftables refused the batch');
    expect(acks()[1].error).toContain('rolled back to revision 1');
    expect(dataPlane.snapshot().revision).toBe(1);
  });

  it('rejects a config the agent cannot apply, naming the field', async () => {
    startSession();
    await connected();
    await push(sampleConfig({ revision: 3, hash: 'sha256:bad', privateCidrs: ['172.16.0.0/4'] }));
    await eventually(() => acks().length === 1);
    expect(acks()[0]).toMatchObject({ revision: 3, hash: 'sha256:bad', result: 'REJECTED' });
    expect(acks()[0].error).toMatch(/privateCidrs\[0\]/);
    expect(dataPlane.snapshot().revision).toBeNull();
  });

  it('rejects a config the decoder refuses when its revision can still be read, and survives garbage', async () => {
    startSession();
    await connected();
    await broker.publish(topic.config, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    // A newer schema version than this agent reads: protobuf keeps the last value of field 1.
    const future = Buffer.concat([
      encodeDesiredConfig(sampleConfig({ revision: 4, hash: 'h4' })),
      Buffer.from([0x08, 0x63]),
    ]);
    await broker.publish(topic.config, future);
    await eventually(() => acks().length === 1);
    expect(acks()[0]).toMatchObject({ revision: 4, hash: 'h4', result: 'REJECTED' });
    expect(acks()[0].error).toMatch(/schema version 99/);
    await push(sampleConfig({ revision: 5 }));
    await eventually(() => acks().length === 2);
    expect(acks()[1]).toMatchObject({ revision: 5, result: 'APPLIED' });
  });

  it('re-acks a duplicate or stale revision without applying it again', async () => {
    startSession();
    await connected();
    await push(sampleConfig({ revision: 5, hash: 'h5' }));
    await eventually(() => acks().length === 1);
    const apply = vi.spyOn(dataPlane, 'apply');
    await push(sampleConfig({ revision: 5, hash: 'h5' }));
    await push(sampleConfig({ revision: 4, hash: 'h4' }));
    await eventually(() => acks().length === 3);
    expect(acks().slice(1)).toEqual([
      expect.objectContaining({ revision: 5, hash: 'h5', result: 'APPLIED' }),
      expect.objectContaining({ revision: 5, hash: 'h5', result: 'APPLIED' }),
    ]);
    expect(apply).not.toHaveBeenCalled();
  });

  it('answers a probe request with a PROBE_RESULT event from its data plane, once per command id', async () => {
    startSession();
    await connected();
    await push(sampleConfig());
    await eventually(() => acks().length === 1);
    const probe = encodeCommand({
      commandId: 'cmd-1',
      probeRequest: {
        probeId: 'prb-1',
        destination: '10.1.0.10',
        protocol: 'tcp',
        port: 22,
        timeoutMs: 1000,
      },
    });
    await broker.publish(topic.cmd, probe);
    await broker.publish(topic.cmd, probe);
    await broker.publish(
      topic.cmd,
      encodeCommand({
        commandId: 'cmd-2',
        probeRequest: { probeId: 'prb-2', destination: '10.2.0.5', protocol: 'icmp' },
      }),
    );
    await eventually(() => events().length === 2, 5000, 'two probe results');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events()).toHaveLength(2);
    expect(events()[0]).toMatchObject({
      kind: 'PROBE_RESULT',
      probeResult: { probeId: 'prb-1', reachable: false, seenBy: SN },
    });
    expect(events()[0].probeResult?.reason).toContain('ACL rule aclr-1 (deny ssh)');
    expect(events()[1].probeResult).toMatchObject({ probeId: 'prb-2', reachable: true, seenBy: SN });
    expect(events()[1].probeResult?.reason).toContain('via tunnel ap-sh-1');
  });

  it('turns running on activation and re-sends its hello on resync', async () => {
    startSession();
    await connected();
    await broker.publish(
      topic.cmd,
      encodeCommand({ commandId: 'act-1', activation: { gatewayId: 'sag-1a9', activatedAtMs: 1 } }),
    );
    await eventually(() => session?.agentState === 'running');
    await broker.publish(topic.cmd, encodeCommand({ commandId: 'sync-1', resync: {} }));
    await eventually(() => hellos().length === 2);
    expect(hellos()[1].state).toBe('running');
  });

  it('hands a reboot request to the restart handler', async () => {
    const onReboot = vi.fn();
    startSession({ onReboot });
    await connected();
    await broker.publish(topic.cmd, encodeCommand({ commandId: 'rb-1', reboot: {} }));
    await eventually(() => onReboot.mock.calls.length === 1);
  });

  it('leaves its Last Will when the connection dies, then reconnects with a fresh proof', async () => {
    startSession();
    await connected();
    broker.dropClient(SN);
    const will = await eventually(() => broker.on(topic.presence)[0], 5000, 'the Last Will');
    expect(decodePresence(will.payload).state).toBe('OFFLINE');
    expect(will.qos).toBe(1);
    await eventually(() => hellos().length === 2, 5000, 'the hello after reconnecting');
    expect(broker.attempts.map((a) => a.ok)).toEqual([true, true]);
    expect(broker.attempts[1].nonce).not.toBe(broker.attempts[0].nonce);
  });

  it('reconnects after the broker restarts, with a new nonce, and hellos its applied revision', async () => {
    const states: string[] = [];
    startSession({ onConnectionChange: (c) => states.push(c.state) });
    await connected();
    await push(sampleConfig({ revision: 9, hash: 'h9' }));
    await eventually(() => acks().length === 1);
    const { port, seenNonces } = broker;
    await broker.stop();
    await eventually(() => session?.connection.state !== 'connected', 5000, 'the link to drop');
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]), port, seenNonces });
    await eventually(() => hellos().length === 1, 5000, 'the hello to the restarted broker');
    // The restarted broker shares the nonce memory: a replayed proof would have been refused.
    expect(broker.attempts).toEqual([expect.objectContaining({ ok: true })]);
    expect(hellos()[0]).toMatchObject({ appliedRevision: 9, appliedHash: 'h9', state: 'running' });
    expect(states).toContain('disconnected');
    expect(states.at(-1)).toBe('connected');
    expect(dataPlane.snapshot().revision).toBe(9);
  });

  it('keeps acks and events produced while the broker is away and sends them after the next hello', async () => {
    startSession();
    await connected();
    const { port, seenNonces } = broker;
    await broker.stop();
    await eventually(() => session?.connection.state !== 'connected');
    session?.publishEvent({ kind: 'TUNNEL_DOWN', atMs: 1, accessPoint: 'ap-sh-1', detail: 'down' });
    broker = await TestBroker.start({ devices: new Map([[SN, identity.publicKey]]), port, seenNonces });
    await eventually(() => events().length === 1, 5000, 'the queued event');
    const order = broker.published.map((p) => p.topic);
    expect(order.indexOf(topic.hello)).toBeLessThan(order.indexOf(topic.event));
    expect(events()[0]).toMatchObject({ kind: 'TUNNEL_DOWN', accessPoint: 'ap-sh-1' });
  });

  it('publishes reports at QoS 0 on its interval', async () => {
    startSession({
      reportIntervalMs: 50,
      report: () => ({
        appliedRevision: 0,
        tunnels: [],
        ports: [],
        counters: { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, aclDroppedPackets: 0 },
        uptimeMs: 123,
      }),
    });
    await connected();
    const report = await eventually(() => broker.on(topic.report)[0], 5000, 'a report');
    expect(report.qos).toBe(0);
    expect(decodeReport(report.payload).uptimeMs).toBe(123);
  });

  it('announces OFFLINE presence when closed and stops reconnecting', async () => {
    const current = startSession();
    await connected();
    await current.close();
    expect(decodePresence(broker.on(topic.presence)[0].payload).state).toBe('OFFLINE');
    expect(current.connection.state).toBe('closed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(broker.attempts).toHaveLength(1);
  });

  it('is refused by a broker that does not know its key and keeps retrying with backoff', async () => {
    await broker.stop();
    broker = await TestBroker.start({
      devices: new Map([[SN, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']]),
    });
    startSession();
    await eventually(() => broker.attempts.length >= 3, 5000, 'three refused attempts');
    expect(broker.attempts.every((a) => !a.ok && a.reason === 'bad-signature')).toBe(true);
    expect(session?.connection.lastError).toMatch(/[Nn]ot authorized/);
  });

  it('retries a broker that refuses connections (nothing listening) within the lower refusal cap', async () => {
    const url = broker.url;
    await broker.stop();
    const attempts: number[] = [];
    // Every wait at its ceiling: refusals stay at 40 ms, other failures would climb to 60 s.
    startSession({
      brokerUrl: url,
      backoff: { baseMs: 20, capMs: 60_000, refusedCapMs: 40, random: () => 0.999999 },
      onConnectionChange: (c) => {
        if (c.state === 'connecting') attempts.push(performance.now());
      },
    });
    await eventually(() => attempts.length >= 12, 5000, 'twelve refused attempts');
    expect(session?.connection.lastError).toMatch(/ECONNREFUSED/);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    // Past 20·2^n the wait would have doubled on; it stays near the 40 ms refusal cap.
    expect(Math.max(...gaps.slice(4))).toBeLessThan(500);
  });
});
