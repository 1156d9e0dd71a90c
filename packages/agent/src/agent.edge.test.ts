import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cloudTopic,
  decodeAck,
  decodeHello,
  decodeProbe,
  deviceTopic,
  encodeDesiredConfig,
  encodeProbe,
} from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Agent, startAgent } from './agent.js';
import { readStatus } from './agentStatus.js';
import { saveLastKnownGood } from './apply/lastKnownGood.js';
import type { DeviceConfig } from './config.js';
import type { DataPlane, DataPlaneState } from './dataplane/dataplane.js';
import { publicKeyOf } from './dataplane/linux/tunnelKey.js';
import { initIdentity } from './identity/identity.js';
import { eventually, TestBroker } from './testing/aedesBroker.js';
import { sampleConfig, sampleEdgeConfig } from './testing/sampleConfig.js';

const SN = 'SN-AP-0001';
const EDGE_KEY = `${'E'.repeat(43)}=`;

/** An access point's data plane reduced to what the agent sees: what was applied, and a key. */
class RecordingDataPlane implements DataPlane {
  readonly kind = 'linux' as const;
  readonly tunnelPublicKey = EDGE_KEY;
  applied: DeviceConfig[] = [];
  closed = false;
  async apply(config: DeviceConfig) {
    this.applied.push(structuredClone(config));
  }
  async verify(config: DeviceConfig) {
    return this.applied.at(-1)?.revision === config.revision ? [] : ['not applied'];
  }
  async reset() {
    this.applied = [];
  }
  snapshot(): DataPlaneState {
    const last = this.applied.at(-1);
    return {
      revision: last?.revision ?? null,
      hash: last?.hash ?? null,
      ports: [],
      routes: [],
      aclRules: [],
      tunnels: [],
    };
  }
  setTunnelStates() {}
  async probe() {
    return { reachable: false, reason: 'an access point runs no path probes' };
  }
  async close() {
    this.closed = true;
  }
}

/** A UDP port on loopback that was free a moment ago. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Sends one keepalive probe to `port` and resolves with the decoded answer, or null after 1 s. */
async function probe(port: number) {
  const socket = createSocket('udp4');
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      socket.on('message', (message) => {
        clearTimeout(timer);
        resolve(decodeProbe(message));
      });
      socket.send(encodeProbe({ seq: 9, sentAtMs: 5, serialNumber: 'SN-HZ-0001' }), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

let stateDir: string;
let publicKey: string;
let agents: Agent[];
let broker: TestBroker | null;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sag-edge-agent-'));
  publicKey = (await initIdentity(stateDir, SN)).publicKey;
  agents = [];
  broker = null;
});

afterEach(async () => {
  for (const agent of agents) await agent.close();
  await broker?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

async function startEdge(brokerUrl: string, port: number, dataPlane = new RecordingDataPlane()) {
  const agent = await startAgent({
    stateDir,
    brokerUrl,
    dataplane: 'linux',
    role: 'edge',
    listen: `127.0.0.1:${port}`,
    dataPlane,
    keepaliveSeconds: 5,
    backoff: { baseMs: 20, capMs: 200 },
  });
  agents.push(agent);
  return { agent, dataPlane };
}

const edgeFor = (port: number, overrides: Partial<DeviceConfig> = {}) => {
  const config = sampleEdgeConfig(overrides);
  return { ...config, edge: { ...(config.edge as NonNullable<DeviceConfig['edge']>), listenPort: port + 1 } };
};

describe('startAgent in the edge role', () => {
  it('applies last-known-good and answers probes with no broker in reach (headless)', async () => {
    const port = await freeUdpPort();
    await saveLastKnownGood(stateDir, edgeFor(port, { revision: 5, hash: 'h5' }));
    const { agent, dataPlane } = await startEdge('mqtt://127.0.0.1:1', port);
    expect(agent.boot).toEqual({ result: 'applied', revision: 5, hash: 'h5' });
    expect(dataPlane.applied.map((c) => c.revision)).toEqual([5]);
    expect(await probe(port)).toEqual({ type: 'reply', seq: 9, sentAtMs: 5, serialNumber: 'SN-HZ-0001' });
    expect(agent.responder?.answered).toBe(1);
    expect(agent.tunnels()).toEqual([]);
    await agent.saveStatus();
    const written = await readStatus(stateDir);
    if (!('status' in written)) throw new Error(written.error);
    expect(written.status).toMatchObject({
      role: 'edge',
      dataplane: 'linux',
      revision: 5,
      edge: { listen: `127.0.0.1:${port}`, probesAnswered: 1, applied: null },
    });
    await agent.close();
    expect(dataPlane.closed).toBe(true);
    expect(await probe(port)).toBeNull();
  });

  it('reports its tunnel key in the hello, applies edge configs and refuses branch ones', async () => {
    const port = await freeUdpPort();
    broker = await TestBroker.start({ devices: new Map([[SN, publicKey]]) });
    const { dataPlane } = await startEdge(broker.url, port);
    await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1, 5000, 'hello');
    expect(decodeHello(broker.on(deviceTopic(SN, 'hello'))[0].payload)).toMatchObject({
      role: 'edge',
      dataplane: 'linux',
      tunnelPublicKey: EDGE_KEY,
      appliedRevision: 0,
    });
    const acks = () => broker?.on(deviceTopic(SN, 'ack')).map((m) => decodeAck(m.payload)) ?? [];
    await broker.publish(cloudTopic(SN, 'config'), encodeDesiredConfig(edgeFor(port, { revision: 2 })));
    await eventually(() => acks().length === 1, 5000, 'the first ack');
    expect(acks()[0]).toMatchObject({ revision: 2, result: 'APPLIED', error: '' });
    expect(dataPlane.applied.at(-1)?.edge?.listenPort).toBe(port + 1);
    await broker.publish(
      cloudTopic(SN, 'config'),
      encodeDesiredConfig(sampleConfig({ revision: 3, serialNumber: SN })),
    );
    await eventually(() => acks().length === 2, 5000, 'the second ack');
    expect(acks()[1]).toMatchObject({ revision: 3, result: 'REJECTED' });
    expect(acks()[1].error).toMatch(/^revision 3 rejected: edge: missing; this device runs in the edge role/);
    expect(dataPlane.applied.map((c) => c.revision)).toEqual([2]);
  });

  it.each(['branch', 'edge'] as const)(
    'on the linux data plane (%s role) says hello with the WireGuard key kept in the state directory',
    async (role) => {
      broker = await TestBroker.start({ devices: new Map([[SN, publicKey]]) });
      // No config is pushed: these data planes would program this machine's own network.
      const agent = await startAgent({
        stateDir,
        brokerUrl: broker.url,
        dataplane: 'linux',
        role,
        ...(role === 'edge' ? { listen: '127.0.0.1:0' } : {}),
      });
      agents.push(agent);
      await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1, 5000, 'hello');
      const hello = decodeHello(broker.on(deviceTopic(SN, 'hello'))[0].payload);
      const key = await readFile(join(stateDir, 'tunnel-key'), 'utf8');
      expect(hello).toMatchObject({ role, dataplane: 'linux', tunnelPublicKey: publicKeyOf(key.trim()) });
      expect(agent.dataPlane.tunnelPublicKey).toBe(hello.tunnelPublicKey);
    },
  );

  it('refuses to start as an access point on the emulated data plane', async () => {
    await expect(
      startAgent({ stateDir, brokerUrl: 'mqtt://127.0.0.1:1', dataplane: 'emulated', role: 'edge' }),
    ).rejects.toThrow('role edge (an access point) needs dataplane linux');
  });
});
