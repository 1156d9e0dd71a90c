import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import type { AgentStatus } from '@opensag/agent';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentIdentity, initAgent, readStatusFile } from '../support/agents.js';
import { type Cloud, gatewayStatus, orderGatewayFor } from '../support/cloud.js';
import { connectAs, proofOf, testDevice } from '../support/deviceClient.js';
import { AGENT_CLI, parseJsonLines, ROOT, removeTempDirs, tempDir } from '../support/processes.js';
import {
  httpsRequest,
  makeTestPki,
  startTlsBroker,
  type TestPki,
  type TlsBrokerProcess,
  tlsCloud,
} from '../support/tls.js';
import { waitFor } from '../support/waitFor.js';

const run = promisify(execFile);
const SAGCTL = join(ROOT, 'packages/broker/bin/sagctl.js');

let pki: TestPki;
let broker: TlsBrokerProcess;
let cloud: Cloud;
const agents: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  pki = makeTestPki();
  broker = await startTlsBroker(pki);
  cloud = tlsCloud(broker, pki.caFile);
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await broker?.stop();
  removeTempDirs();
});

/** `sag-agent run` with extra arguments (`--ca FILE`); its output kept for the test to read. */
function startAgent(identity: AgentIdentity, brokerUrl: string, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      AGENT_CLI,
      'run',
      '--state-dir',
      identity.stateDir,
      '--broker',
      brokerUrl,
      '--log-level',
      'info',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const agent = {
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  agents.push(agent);
  return agent;
}

/** Connects as a device with a valid proof over `url`, trusting `caFile` when given. */
function connectDevice(
  url: string,
  device: ReturnType<typeof testDevice>,
  caFile?: string,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, {
      protocolVersion: 4,
      clientId: device.serialNumber,
      username: device.serialNumber,
      password: proofOf(device),
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(caFile ? { ca: readFileSync(caFile) } : {}),
    });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function brokerLastError(identity: AgentIdentity, pattern: RegExp): Promise<AgentStatus> {
  return waitFor(`agent ${identity.serialNumber} to record ${pattern}`, () => {
    const status = readStatusFile(identity.stateDir);
    return status?.broker.lastError && pattern.test(status.broker.lastError) ? status : null;
  });
}

describe('TLS on the broker', () => {
  it('serves the API over HTTPS to clients that trust its CA, and nothing over plain HTTP', async () => {
    expect(broker.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await httpsRequest(`${broker.url}/healthz`, { caFile: pki.caFile })).toMatchObject({
      status: 200,
    });
    const areas = await httpsRequest(`${broker.url}/v1/areas`, { caFile: pki.caFile, token: broker.token });
    expect(areas.status).toBe(200);
    expect(areas.body).toContain('china-mainland');

    await expect(httpsRequest(`${broker.url}/healthz`, { caFile: pki.otherCaFile })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const plain = await fetch(`${broker.url.replace('https:', 'http:')}/healthz`).then(
      async (response) => ({ status: response.status, body: await response.text() }),
      (err: Error) => ({ status: 0, body: String((err.cause as Error | undefined)?.message ?? err.message) }),
    );
    expect(plain.status).not.toBe(200);

    // sagctl uses fetch: a private CA is named with NODE_EXTRA_CA_CERTS.
    const sagctl = ['--url', broker.url, '--token', broker.token, '--json', 'areas'];
    const trusted = await run(process.execPath, [SAGCTL, ...sagctl], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: pki.caFile },
    });
    expect(JSON.parse(trusted.stdout).items.map((a: { area: string }) => a.area)).toContain('china-mainland');
    const untrusted = await run(process.execPath, [SAGCTL, ...sagctl]).catch((err) => err);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain("the broker's certificate is not trusted");
    expect(untrusted.stderr).toContain('NODE_EXTRA_CA_CERTS=');
  });

  it('brings an agent started with --ca in sync over mqtts://', async () => {
    expect(broker.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const device = await initAgent('SAGTLS-OK01');
    const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', device);
    await cloud.post(`/v1/gateways/${gatewayId}/activate`);
    startAgent(device, broker.mqttUrl, ['--ca', pki.caFile]);
    const status = await waitFor('the gateway in sync over mqtts://', async () => {
      const current = await gatewayStatus(cloud, gatewayId);
      return current.sync === 'in-sync' && current.presence === 'online' ? current : null;
    });
    expect(status.appliedRevision).toBe(status.desiredRevision);
    expect(readStatusFile(device.stateDir)?.broker).toMatchObject({ state: 'connected', lastError: null });
  });

  it('runs simulated gateways over mqtts:// with --ca, provisioned over HTTPS', async () => {
    const stateDir = tempDir('tls-simulate');
    const simulate = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
      run(process.execPath, [AGENT_CLI, 'simulate', ...args, '--count', '3', '--state-dir', stateDir], {
        env,
        timeout: 60_000,
      });
    // The API client is Node's fetch: a private CA reaches it through NODE_EXTRA_CA_CERTS, as for
    // sagctl. That would also reach the MQTT connections, so the devices run without it.
    await simulate(['provision', '--api', broker.url, `--token=${broker.token}`], {
      ...process.env,
      NODE_EXTRA_CA_CERTS: pki.caFile,
    });
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const { stdout } = await simulate(['--broker', broker.mqttUrl, '--ca', pki.caFile, '--once'], env);
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ count: 3, inSync: 3 });
  });

  it('keeps out an agent that does not trust the CA, which says so in its status and log', async () => {
    const noCa = await initAgent('SAGTLS-NOCA');
    const otherCa = await initAgent('SAGTLS-OTHER');
    const gateways = [
      await orderGatewayFor(cloud, 'Ningbo branch', noCa),
      await orderGatewayFor(cloud, 'Suzhou branch', otherCa),
    ];
    const withoutCa = startAgent(noCa, broker.mqttUrl);
    const withOtherCa = startAgent(otherCa, broker.mqttUrl, ['--ca', pki.otherCaFile]);

    const status = await brokerLastError(noCa, /certificate is not trusted/);
    expect(status.broker.state).not.toBe('connected');
    expect(status.broker.lastError).toContain('pass --ca FILE (SAG_CA) with the CA that signed it');
    const other = await brokerLastError(otherCa, /certificate is not trusted/);
    expect(other.broker.lastError).toContain('the CA bundle given with --ca (SAG_CA) did not sign it');

    const retry = parseJsonLines(withoutCa.output()).find(
      (e) => e.msg === 'not connected to the broker; retrying',
    );
    expect(String(retry?.reason)).toContain("the broker's certificate is not trusted");
    expect(withOtherCa.output()).toContain('did not sign it');
    for (const id of gateways) expect((await gatewayStatus(cloud, id)).presence).toBe('offline');
  });

  it('gives a plain mqtt:// client no session on the TLS port, and takes wss:// with the CA', async () => {
    const device = testDevice('SAGTLS-RAW1');
    const gatewayId = await orderGatewayFor(cloud, 'Wuxi branch', device);
    const port = new URL(broker.mqttUrl).port;

    const plain = await connectAs(`mqtt://127.0.0.1:${port}`, device.serialNumber, proofOf(device));
    expect(plain.connected).toBe(false);
    expect((await gatewayStatus(cloud, gatewayId)).presence).toBe('offline');

    // The same device, the same kind of proof: over TLS it gets in, by TCP and by WebSocket.
    for (const url of [broker.mqttUrl, broker.wsUrl]) {
      const client = await connectDevice(url, device, pki.caFile);
      await waitFor(`online over ${url}`, async () =>
        (await gatewayStatus(cloud, gatewayId)).presence === 'online' ? true : null,
      );
      await client.endAsync();
    }
    expect(broker.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    await expect(connectDevice(broker.wsUrl, device)).rejects.toThrow();
  });

  it('keeps the packet-size guard on TLS connections: an oversized CONNECT is cut at once', async () => {
    const { hostname, port } = new URL(broker.mqttUrl);
    const socket = tlsConnect({ host: hostname, port: Number(port), ca: readFileSync(pki.caFile) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const sentAt = Date.now();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // CONNECT announcing 65,535 bytes, past the 4,096 a first packet may have; the body never comes.
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0x03]));
    await closed;
    // Without the guard aedes would wait for the body until its 30 s connect timeout.
    expect(Date.now() - sentAt).toBeLessThan(5000);
  });
});
