// The OpenSAG broker as a child process (its CLI from packages/broker/dist), on fixed ports so a
// restart on the same data directory is the same broker to the devices.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, freeUdpPort, spawnNode, stopChild, waitFor } from './children.mjs';
import { openInspector } from './inspector.mjs';

const CLI = fileURLToPath(new URL('../../packages/broker/dist/cli.js', import.meta.url));
export const BENCH_TOKEN = 'bench-token-0123456789';

/** Ports and settings one broker keeps across restarts. */
export async function brokerPlan({ dir, dataDir, gateways, logLevel }) {
  const configFile = join(dir, 'broker.json');
  // Quotas sized to the fleet; every gateway sits in a CCN of CCN_SIZE (see seed.mjs).
  writeFileSync(configFile, JSON.stringify({ quotas: { gateways: gateways + 10, ccns: 1000 } }));
  // One log per run, so a crash found in it is this run's.
  writeFileSync(join(dir, 'broker.log'), '');
  return {
    dataDir,
    configFile,
    logFile: join(dir, 'broker.log'),
    logLevel,
    http: await freeTcpPort(),
    mqtt: await freeTcpPort(),
    accessPoint: await freeUdpPort(),
    inspect: await freeTcpPort(),
  };
}

/** Starts the broker and waits until /healthz answers; `inspector` drives GC and profiles. */
export async function startBrokerChild(plan, { timeoutMs = 300_000 } = {}) {
  const child = spawnNode({
    nodeArgs: [`--inspect=127.0.0.1:${plan.inspect}`],
    script: CLI,
    args: [
      '--data-dir',
      plan.dataDir,
      '--http',
      `127.0.0.1:${plan.http}`,
      '--mqtt',
      `127.0.0.1:${plan.mqtt}`,
      '--access-point',
      `127.0.0.1:${plan.accessPoint}`,
      '--log-level',
      plan.logLevel,
      '--rate-limit',
      '100000000',
      '--config',
      plan.configFile,
    ],
    logFile: plan.logFile,
    env: { SAG_API_TOKEN: BENCH_TOKEN },
  });
  const httpUrl = `http://127.0.0.1:${plan.http}`;
  const startedAt = performance.now();
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`the broker exited (${child.exitCode}); see ${plan.logFile}`);
      return (await fetch(`${httpUrl}/healthz`)).ok;
    },
    { timeoutMs, what: `the broker's /healthz (log: ${plan.logFile})` },
  ).catch((err) => {
    child.kill('SIGKILL');
    throw child.exitCode !== null
      ? new Error(`the broker exited (${child.exitCode}); see ${plan.logFile}`)
      : err;
  });
  const readyMs = performance.now() - startedAt;
  const inspector = await openInspector(plan.inspect);
  return {
    child,
    pid: child.pid,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${plan.mqtt}`,
    readyMs,
    inspector,
    async stop(signal = 'SIGTERM') {
      inspector.close();
      return stopChild(child, signal);
    },
  };
}

/** `opensag_devices{presence="online"}` and `opensag_gateway_sync{sync="in-sync"}` from /metrics. */
export async function fleetGauges(httpUrl) {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const gauge = (name, label) => {
    const match = new RegExp(`^${name}\\{${label}\\} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return {
    online: gauge('opensag_devices', 'presence="online"'),
    inSync: gauge('opensag_gateway_sync', 'sync="in-sync"'),
  };
}

/** A bearer-token JSON client of the broker's /v1 API; throws with the API's message on non-2xx. */
export function api(httpUrl) {
  return async function call(method, path, body) {
    const response = await fetch(`${httpUrl}/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${BENCH_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} /v1${path} → ${response.status} ${text.slice(0, 300)}`);
    return text === '' ? null : JSON.parse(text);
  };
}
