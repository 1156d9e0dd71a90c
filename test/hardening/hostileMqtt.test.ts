import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEVICE_TOPIC_KINDS, encodeHello } from '@opensag/proto';
import { connect } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { agentStatus, initAgent } from '../support/agents.js';
import { type Cloud, cloudApi, gatewayConfig, gatewayStatus, orderGatewayFor } from '../support/cloud.js';
import { proofOf, type TestDevice, testDevice } from '../support/deviceClient.js';
import { Lab } from '../support/lab.js';
import type { BrokerProcess } from '../support/processes.js';
import { sleep, waitFor } from '../support/waitFor.js';
import {
  connectPacket,
  PINGREQ,
  packet,
  publishPacket,
  RawConnection,
  subscribePacket,
  unsubscribePacket,
} from './rawMqtt.js';

/**
 * A corpus of hostile MQTT against a real broker process: names that are JavaScript or MQTT
 * syntax, malformed and oversized packets, sockets that never speak. Each hostile socket must be
 * refused or closed, the process must stay up with bounded memory, and a bound agent must keep
 * converging to every config change made meanwhile.
 */

const lab = new Lab();
let broker: BrokerProcess;
let cloud: Cloud;
let mqttPort: number;
let legit: { serialNumber: string; stateDir: string; gatewayId: string };
let evil: TestDevice;
let evilGatewayId: string;
let rssBeforeKb: number;
let idle: RawConnection[] = [];
let pendingChange: Promise<unknown>;

/** The broker keeps connections that never send CONNECT this long (MQTT_LIMITS.connectTimeout). */
const CONNECT_TIMEOUT_MS = 30_000;
/** Memory the whole corpus may cost the broker; streaming 100 MiB into one socket once cost more. */
const RSS_GROWTH_BOUND_KB = 48 * 1024;
const CONNACK_NOT_AUTHORIZED = 5;
const SUBACK_REFUSED = 0x80;

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/** Refused CONNECTs are rate-limited per address: each gets its own loopback address. */
let nextAddress = 0;
const strangerAddress = () => {
  nextAddress += 1;
  return `127.0.${1 + Math.floor(nextAddress / 250)}.${1 + (nextAddress % 250)}`;
};

async function healthy(): Promise<boolean> {
  const response = await fetch(`${broker.url}/healthz`);
  return response.status === 200 && (await response.json()).status === 'ok';
}

async function changeLegitNetwork(cidr: string) {
  await cloud.put(`/v1/gateways/${legit.gatewayId}/network`, { privateCidrs: [cidr], ccnId: null });
  const desired = await gatewayConfig(cloud, legit.gatewayId);
  return waitFor(
    `gateway ${legit.gatewayId} in sync at revision ${desired.revision}`,
    async () => {
      const status = await gatewayStatus(cloud, legit.gatewayId);
      return status.sync === 'in-sync' && status.appliedRevision === desired.revision ? desired : null;
    },
    { timeoutMs: 15_000 },
  );
}

/** A raw connection of the bound hostile device, past a real CONNACK 0. */
async function evilSession(): Promise<RawConnection> {
  const conn = await RawConnection.open(mqttPort);
  const id = evil.serialNumber;
  conn.send(connectPacket({ clientId: id, username: id, password: proofOf(evil) }));
  await conn.until((c) => c.connackCode !== null);
  expect(conn.connackCode).toBe(0);
  conn.received = Buffer.alloc(0);
  return conn;
}

beforeAll(async () => {
  broker = await lab.broker();
  cloud = cloudApi(broker);
  mqttPort = Number(broker.mqttAddress.split(':').pop());
  // Sockets that never send a byte, or stop inside the CONNECT: only the connect timeout ends them.
  // Opened first, so that their 30 s run while the rest of the corpus does.
  idle = await Promise.all(Array.from({ length: 20 }, () => RawConnection.open(mqttPort, strangerAddress())));
  for (const conn of idle.slice(0, 5)) conn.send(connectPacket({ clientId: 'SAGHOST-X' }).subarray(0, 7));
  const identity = await initAgent('SAGHOST-LEGIT');
  const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', identity);
  await cloud.post(`/v1/gateways/${gatewayId}/activate`);
  legit = { ...identity, gatewayId };
  lab.agent(identity, broker.mqttUrl);
  evil = testDevice('SAGHOST-EVIL');
  evilGatewayId = await orderGatewayFor(cloud, 'Ningbo branch', evil);
  await cloud.post(`/v1/gateways/${evilGatewayId}/activate`);
  await changeLegitNetwork('172.16.0.0/16');
  rssBeforeKb = rssKb(broker.child.pid as number);
}, 30_000);

afterAll(() => lab.cleanup());

type Outcome = { closed: true; connack?: number } | { closed: false };

/** Sends `bytes` on a fresh socket from a fresh address; what the broker answered. */
async function unauthenticated(...bytes: Buffer[]): Promise<Outcome> {
  const conn = await RawConnection.open(mqttPort, strangerAddress());
  conn.send(...bytes);
  const closed = await conn.untilClosed();
  conn.destroy();
  if (!closed) return { closed: false };
  return conn.connackCode === null ? { closed: true } : { closed: true, connack: conn.connackCode };
}

const HOSTILE_NAMES: [string, string | Buffer][] = [
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['#', '#'],
  ['+', '+'],
  ['$SYS', '$SYS'],
  ['$SYS/broker', '$SYS/broker'],
  ['a topic', 'sag/v1/d/SAGHOST-LEGIT/hello'],
  ['empty', ''],
  ['1 KiB', 'A'.repeat(1024)],
  ['not UTF-8', Buffer.from([0xff, 0xfe, 0xc3, 0x28])],
  ['a NUL', 'SAG\u0000HOST'],
];

describe('hostile MQTT against a running broker', () => {
  it.each([
    ['PUBLISH with topic length 0 as first packet', [packet(0x32, Buffer.from([0, 0, 0, 1, 0x41]))]],
    ['SUBSCRIBE without payload', [packet(0x82, Buffer.from([0, 1]))]],
    ['remaining length FF FF FF 7F and no body', [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])]],
    ['a first packet that is not CONNECT (PINGREQ)', [PINGREQ]],
    ['a flood of 10,000 PINGREQ before CONNECT', [Buffer.concat(Array(10_000).fill(PINGREQ))]],
    ['CONNECT with protocol level 0', [connectPacket({ clientId: 'SAGHOST-X', level: 0 })]],
    ['CONNECT with protocol level 6', [connectPacket({ clientId: 'SAGHOST-X', level: 6 })]],
    ['reserved packet type 0', [Buffer.from([0x00, 0x00])]],
    ['reserved packet type 15', [Buffer.from([0xf0, 0x00])]],
    ['a CONNECT with a 5-byte remaining length', [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])]],
  ])('closes a socket that sends %s, without a word', async (_name, bytes) => {
    expect(await unauthenticated(...bytes)).toEqual({ closed: true });
  });

  it('refuses keepalive 65535 and 0 (CONNACK 6), and a long MQTT 3.1 client id (CONNACK 2)', async () => {
    const connect = (keepalive: number) =>
      connectPacket({ clientId: 'SAGHOST-X', username: 'SAGHOST-X', password: 'x', keepalive });
    expect(await unauthenticated(connect(65_535))).toEqual({ closed: true, connack: 6 });
    expect(await unauthenticated(connect(0))).toEqual({ closed: true, connack: 6 });
    const long = connectPacket({ clientId: 'S'.repeat(100), level: 3 });
    expect(await unauthenticated(long)).toEqual({ closed: true, connack: 2 });
  });

  it('cuts off a CONNECT above 4 KiB (64 KiB ids, names or passwords) before parsing it', async () => {
    const big = 'A'.repeat(65_535);
    for (const fields of [
      { clientId: big, username: big, password: 'x' },
      { clientId: evil.serialNumber, username: evil.serialNumber, password: big },
      { clientId: evil.serialNumber, username: big, password: proofOf(evil) },
    ]) {
      expect(await unauthenticated(connectPacket(fields))).toEqual({ closed: true });
    }
  });

  it.each(HOSTILE_NAMES)(
    'refuses %s as client id and username, alone or beside a real serial',
    async (_n, name) => {
      const refused = { closed: true, connack: CONNACK_NOT_AUTHORIZED };
      const proof = proofOf(evil);
      expect(
        await unauthenticated(connectPacket({ clientId: name, username: name, password: proof })),
      ).toEqual(refused);
      // Neither may take over the bound devices' client ids.
      for (const [clientId, username] of [
        [legit.serialNumber, name],
        [name, evil.serialNumber],
        [evil.serialNumber, name],
      ]) {
        expect(await unauthenticated(connectPacket({ clientId, username, password: proof }))).toEqual(
          refused,
        );
      }
    },
  );

  it('ends a connection that announces 256 MiB at once, before it has buffered the body', async () => {
    const conn = await RawConnection.open(mqttPort, strangerAddress());
    conn.send(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    let written = 0;
    while (written < 100 && !conn.closed) {
      if (!conn.socket.write(chunk)) await Promise.race([conn.until((c) => c.closed), once(conn, 'drain')]);
      written += 1;
    }
    expect(await conn.untilClosed()).toBe(true);
    expect(written).toBeLessThan(100);
    conn.destroy();
  });

  it('ends a WebSocket connection that announces 256 MiB, and one that sends PINGREQ first', async () => {
    for (const bytes of [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), PINGREQ]) {
      const socket = new WebSocket(`${broker.url.replace('http', 'ws')}/mqtt`, 'mqtt');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(bytes);
      await expect(closed).resolves.toBeTypeOf('number');
    }
  });

  it('closes a bound device that sends malformed packets after its CONNACK', async () => {
    const topicOf = (kind: string) => `sag/v1/d/${evil.serialNumber}/${kind}`;
    const own = topicOf('hello');
    const corpus: [string, Buffer][] = [
      ['PUBLISH with topic length 0', publishPacket('', Buffer.from('x'))],
      ['SUBSCRIBE without payload', packet(0x82, Buffer.from([0, 7]))],
      ['remaining length FF FF FF 7F', Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])],
      ['10,000 topic levels', publishPacket(`${'a/'.repeat(9_999)}a`, Buffer.from('x'))],
      ['a second CONNECT', connectPacket({ clientId: evil.serialNumber, username: evil.serialNumber })],
      ['reserved packet type 0', Buffer.from([0x00, 0x00])],
      ['reserved packet type 15', Buffer.from([0xf0, 0x00])],
      ['QoS 2 on its own topic', publishPacket(own, Buffer.from('x'), { qos: 2 })],
      ['a retained message on its own topic', publishPacket(own, Buffer.from('x'), { retain: true })],
      ['a non-UTF-8 topic', publishPacket(Buffer.from([0xff, 0xfe, 0x2f, 0x80]), Buffer.from('x'))],
      ['a 64 KiB topic', publishPacket('s'.repeat(65_535), Buffer.from('x'))],
      ['a 2 MiB PUBLISH on its own topic', publishPacket(own, Buffer.alloc(2 * 1024 * 1024))],
      ...[
        '#',
        '+',
        '$SYS/broker/clients',
        '__proto__',
        'constructor',
        'sag/v1/d/+/hello',
        'sag/v1/d/#',
        'sag/v1/d/__proto__/hello',
        topicOf('__proto__'),
        topicOf('constructor'),
        topicOf('toString'),
        `sag/v1/d/${legit.serialNumber}/hello`,
        `sag/v1/c/${evil.serialNumber}/config`,
        `sag/v1/c/${legit.serialNumber}/config`,
      ].map((topic): [string, Buffer] => [`PUBLISH to ${topic}`, publishPacket(topic, Buffer.from('x'))]),
    ];
    for (const [name, bytes] of corpus) {
      const conn = await evilSession();
      conn.send(bytes);
      expect(await conn.untilClosed(), name).toBe(true);
      // Nothing was acknowledged: the broker hung up rather than answer.
      expect(conn.received.length, name).toBe(0);
      conn.destroy();
    }
  }, 20_000);

  it('refuses hostile subscriptions with SUBACK 0x80 and keeps the connection', async () => {
    const conn = await evilSession();
    const filters: (string | Buffer)[] = [
      '#',
      '+',
      '$SYS/#',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'sag/v1/c/+/config',
      `sag/v1/c/${legit.serialNumber}/config`,
      `sag/v1/c/${evil.serialNumber}/#`,
      `sag/v1/c/${evil.serialNumber}/__proto__`,
      'q'.repeat(65_535),
    ];
    for (const [i, filter] of filters.entries()) {
      conn.received = Buffer.alloc(0);
      conn.send(subscribePacket(i + 1, [filter]));
      const suback = Buffer.from([0x90, 0x03, 0x00, i + 1, SUBACK_REFUSED]);
      expect(await conn.until((c) => c.received.equals(suback)), String(filter).slice(0, 40)).toBe(true);
    }
    conn.received = Buffer.alloc(0);
    conn.send(unsubscribePacket(99, ['__proto__', 'constructor', '#']), PINGREQ);
    const answers = Buffer.from([0xb0, 0x02, 0x00, 99, 0xd0, 0x00]);
    expect(await conn.until((c) => c.received.equals(answers))).toBe(true);
    expect(conn.closed).toBe(false);
    conn.destroy();
  });

  it('disconnects a device that lists 50,000 foreign filters in one SUBSCRIBE, after a few log lines', async () => {
    const refusals = () =>
      broker.logEntries().filter((e) => String(e.msg).startsWith('device subscription refused')).length;
    const before = refusals();
    const conn = await evilSession();
    conn.send(
      subscribePacket(
        1,
        Array.from({ length: 50_000 }, (_, i) => `x/${i}`),
      ),
    );
    expect(await conn.untilClosed()).toBe(true);
    expect(conn.received.length).toBe(0);
    // 16 refusals logged one by one, then one line for the disconnection; no more come.
    await waitFor('the refusals in the broker log', () => refusals() - before >= 17);
    await sleep(300);
    expect(refusals() - before).toBe(17);
    conn.destroy();
  });

  it('drops hostile payloads on every own topic, logged with the serial, and keeps the device', async () => {
    pendingChange = changeLegitNetwork('172.18.0.0/16');
    const client = connect(broker.mqttUrl, {
      protocolVersion: 4,
      clientId: evil.serialNumber,
      username: evil.serialNumber,
      password: proofOf(evil),
      reconnectPeriod: 0,
    });
    await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const payloads = [
      Buffer.alloc(0),
      randomBytes(512),
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.alloc(1024 * 1024 + 1, 0x0a),
    ];
    for (const kind of DEVICE_TOPIC_KINDS)
      for (const payload of payloads)
        await client.publishAsync(`sag/v1/d/${evil.serialNumber}/${kind}`, payload, { qos: 1 });
    const weird = '__proto__';
    await client.publishAsync(
      `sag/v1/d/${evil.serialNumber}/hello`,
      encodeHello({
        agentVersion: weird,
        model: 'constructor',
        appliedHash: 'toString',
        ports: [{ name: weird, kind: 'wan', state: 'up', mode: 'dhcp', address: '#', error: '+' }],
        state: 'running',
        dataplane: 'emulated',
        role: 'branch',
        tunnelPublicKey: weird,
      }),
      { qos: 1 },
    );
    // Revision 2^53 - 1 once went into the gateway's config (reissued above the device's claim)
    // and the next push threw out of a timer: the broker process died.
    const beyond = Buffer.concat([
      encodeHello({ state: 'running', dataplane: 'emulated', role: 'branch' }),
      Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    ]);
    await client.publishAsync(`sag/v1/d/${evil.serialNumber}/hello`, beyond, { qos: 1 });
    expect(client.connected).toBe(true);
    const dropped = await waitFor('every hostile payload in the broker log', () => {
      const lines = broker.logEntries().filter((e) => /^device \w+ dropped: /.test(String(e.msg)));
      return lines.length >= DEVICE_TOPIC_KINDS.length * payloads.length + 1 ? lines : null;
    });
    expect(new Set(dropped.map((e) => e.serialNumber))).toEqual(new Set([evil.serialNumber]));
    expect(dropped.every((e) => typeof e.code === 'string')).toBe(true);
    expect(dropped.at(-1)?.field).toBe('appliedRevision');
    expect(await healthy()).toBe(true);
    const evilConfig = await gatewayConfig(cloud, evilGatewayId);
    expect(evilConfig.revision).toBeLessThan(2 ** 48);
    const status = await gatewayStatus(cloud, legit.gatewayId);
    expect(status.presence).toBe('online');
    await client.endAsync();
  });

  it('stays up with bounded memory, has closed every idle socket, and the agent keeps converging', async () => {
    await pendingChange;
    const last = await changeLegitNetwork('172.19.0.0/16');
    expect(await agentStatus(legit.stateDir)).toMatchObject({ revision: last.revision, hash: last.hash });
    expect(await healthy()).toBe(true);
    const growthKb = rssKb(broker.child.pid as number) - rssBeforeKb;
    console.info(`broker VmRSS before the corpus ${rssBeforeKb} kB, growth ${growthKb} kB`);
    expect(growthKb).toBeLessThan(RSS_GROWTH_BOUND_KB);
    // The idle sockets end on the broker's connect timeout, not before and not never.
    const deadline = idle[0].openedAt + CONNECT_TIMEOUT_MS + 5_000;
    for (const conn of idle) expect(await conn.untilClosed(deadline - Date.now())).toBe(true);
    for (const conn of idle)
      expect(conn.closedAt! - conn.openedAt).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 1000);
    expect(broker.logEntries().filter((e) => Number(e.level) >= 50)).toEqual([]);
    expect(await healthy()).toBe(true);
  }, 45_000);
});

function once(conn: RawConnection, event: string): Promise<void> {
  return new Promise((resolve) => conn.socket.once(event, () => resolve()));
}
