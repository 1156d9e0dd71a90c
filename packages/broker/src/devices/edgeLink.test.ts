import {
  type DesiredConfig,
  decodeDesiredConfig,
  encodeAck,
  encodeHello,
  generateIdentity,
} from '@opensag/proto';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { setNetwork } from '../domain/operations/index.js';
import { eventually, inbox, startTestLink, type TestDevice, type TestLink } from './testLink.js';

const EDGE_A_KEY = 'ZWRnZS1hLXR1bm5lbC1rZXktMDAwMDAwMDAwMDAwMDA=';
const GATEWAY_KEY = 'aHotYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=';

let t: TestLink;
afterEach(() => t.close());

const configs = (messages: { topic: string; payload: Buffer }[]): DesiredConfig[] =>
  messages.filter((m) => m.topic.endsWith('/config')).map((m) => decodeDesiredConfig(m.payload));

function hello(client: MqttClient, device: TestDevice, role: 'branch' | 'edge', tunnelPublicKey: string) {
  return client.publishAsync(
    `sag/v1/d/${device.serialNumber}/hello`,
    encodeHello({
      agentVersion: '0.1.0',
      model: 'opensag-linux',
      state: 'running',
      dataplane: 'linux',
      role,
      tunnelPublicKey,
    }),
    { qos: 1 },
  );
}

async function startWithEdge(): Promise<TestDevice> {
  const identity = generateIdentity();
  const edge = { serialNumber: 'SAGEDGEA01', identity, gatewayId: 'ap-edge-a' };
  t = await startTestLink(
    {},
    {
      accessPoints: [
        {
          id: 'ap-edge-a',
          address: '203.0.113.11:51820',
          serialNumber: edge.serialNumber,
          identityKey: identity.publicKey,
        },
        { id: 'ap-edge-b', address: '203.0.113.12:51820' },
      ],
    },
  );
  return edge;
}

describe('an access point run by an edge agent', () => {
  it('connects with its own identity, gets its config and goes in sync on ack', async () => {
    const edge = await startWithEdge();
    const client = await t.connectAgent(edge);
    const messages = inbox(client);
    await hello(client, edge, 'edge', EDGE_A_KEY);
    const [config] = await eventually(() => configs(messages).length > 0 && configs(messages));
    expect(config).toMatchObject({
      gatewayId: 'ap-edge-a',
      serialNumber: 'SAGEDGEA01',
      tunnels: [],
      edge: { listenPort: 51821, peers: [] },
    });
    expect(t.controlPlane.accessPoint('ap-edge-a')).toMatchObject({
      role: 'active',
      presence: 'online',
      tunnelPublicKey: EDGE_A_KEY,
      sync: 'pending',
    });
    await client.publishAsync(
      `sag/v1/d/${edge.serialNumber}/ack`,
      encodeAck({ revision: config.revision, hash: config.hash, result: 'APPLIED', error: '' }),
      { qos: 1 },
    );
    await eventually(() => t.controlPlane.accessPoint('ap-edge-a').sync === 'in-sync');
    expect(t.controlPlane.accessPoint('ap-edge-b')).toMatchObject({ serialNumber: null, role: 'standby' });
  });

  it("puts the edge's key into every gateway's tunnel and each gateway's key into the edge's peers", async () => {
    const edge = await startWithEdge();
    const device = t.device({ active: true });
    t.controlPlane.mutate('test', (topology, ctx) =>
      setNetwork(topology, ctx, device.gatewayId, { privateCidrs: ['172.16.0.0/16'] }),
    );
    const edgeClient = await t.connectAgent(edge);
    const edgeMessages = inbox(edgeClient);
    await hello(edgeClient, edge, 'edge', EDGE_A_KEY);
    await eventually(() => configs(edgeMessages).length > 0);
    const tunnels = () => t.controlPlane.gatewayConfig(device.gatewayId).config.tunnels;
    // New keys are compiled in within a short batch.
    await eventually(() => tunnels()[0]?.publicKey === EDGE_A_KEY);
    expect(tunnels()[0]).toMatchObject({ accessPoint: 'ap-edge-a', publicKey: EDGE_A_KEY });
    expect(t.controlPlane.accessPoint('ap-edge-a').omittedPeers).toEqual([
      { gatewayId: device.gatewayId, reason: 'its device has not reported a tunnel key yet' },
    ]);

    const gatewayClient = await t.connectAgent(device);
    await hello(gatewayClient, device, 'branch', GATEWAY_KEY);
    const withPeer = await eventually(() =>
      configs(edgeMessages).find((config) => (config.edge?.peers.length ?? 0) > 0),
    );
    expect(withPeer.edge?.peers).toEqual([
      {
        gatewayId: device.gatewayId,
        publicKey: GATEWAY_KEY,
        allowedIps: ['172.16.0.0/16'],
        routeSet: 'routes-1',
      },
    ]);
    const revision = t.controlPlane.configRecord(device.gatewayId)?.revision;
    // The same key again (a reconnect) changes nothing anywhere.
    await hello(gatewayClient, device, 'branch', GATEWAY_KEY);
    await hello(edgeClient, edge, 'edge', EDGE_A_KEY);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.controlPlane.configRecord(device.gatewayId)?.revision).toBe(revision);
    expect(Math.max(...configs(edgeMessages).map((config) => config.revision))).toBe(withPeer.revision);
  });

  it('refuses an edge whose proof is signed by another key, and ignores a malformed tunnel key', async () => {
    const edge = await startWithEdge();
    const impostor = { ...edge, identity: generateIdentity() };
    await expect(t.connect(impostor)).rejects.toThrow(/Not authorized/i);
    const client = await t.connectAgent(edge);
    await hello(client, edge, 'edge', 'not-a-key');
    await eventually(() => t.logsWith(/tunnel key that is not the base64/).length > 0);
    expect(t.controlPlane.accessPoint('ap-edge-a').tunnelPublicKey).toBeNull();
  });
});
