// `npm run lab`: the broker and the two branch agents (Hangzhou, Ningbo) on loopback, with the
// reference scenario walked step by step over the HTTP API. No Docker. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  accessMatrix,
  activateGateways,
  apiClient,
  authorizeBranches,
  BRANCHES,
  bindDevices,
  configureNetwork,
  createGateways,
  createInstances,
  VPCS,
} from './scenario.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const labDir = join(root, '.lab');
const brokerCli = join(root, 'packages/broker/dist/cli.js');
const agentCli = join(root, 'packages/agent/dist/cli.js');
const http = process.env.SAG_LAB_HTTP ?? '127.0.0.1:8080';
const mqtt = process.env.SAG_LAB_MQTT ?? '127.0.0.1:1883';
const accessPoint = process.env.SAG_LAB_ACCESS_POINT ?? '127.0.0.1:51821';
const token = randomBytes(24).toString('base64url');
const logLevel = process.env.SAG_LOG_LEVEL ?? 'warn';
const children = [];
let stopping = false;

function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (chunk) => process.stderr.write(prefixed(name, chunk)));
  // Read stdout too, or a chatty child would block once the pipe fills.
  if (name !== 'broker') child.stdout.on('data', (chunk) => process.stdout.write(prefixed(name, chunk)));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[${name}] exited (${signal ?? code}); stopping the lab`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

function prefixed(name, chunk) {
  return chunk
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => `[${name}] ${line}\n`)
    .join('');
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  // Agents first, so the broker records them going offline, then the broker.
  for (const group of [children.slice(1), children.slice(0, 1)]) {
    await Promise.all(group.map(terminate));
  }
  process.exit(code);
}

function terminate(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function firstLine(child, pattern, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

async function until(what, check, timeoutMs = 10_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const step = (n, text) => console.log(`step ${n}: ${text}`);

function initDevice(serial, stateDir) {
  const result = spawnSync(
    process.execPath,
    [agentCli, 'init', '--serial', serial, '--state-dir', stateDir],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`sag-agent init failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Waits for both devices to apply what the last step changed; `since` is when it was sent. */
async function waitInSync(api, ids, stepNumber, since) {
  for (const id of ids.gateways) {
    const { value } = await until(`${id} in sync`, async () => {
      const status = await api.get(`/v1/gateways/${id}/status`);
      return status.sync === 'in-sync' && status.appliedRevision !== null ? status : null;
    });
    const ms = Date.now() - since;
    step(
      stepNumber,
      `${id}: device applied config revision ${value.appliedRevision} (in sync ${ms} ms after the change)`,
    );
  }
}

function verdict(result) {
  return result.reachable ? 'reachable' : `unreachable: ${result.reason}`;
}

async function main() {
  rmSync(labDir, { recursive: true, force: true });
  mkdirSync(labDir, { recursive: true });
  const dataDir = join(labDir, 'broker');
  const broker = start(
    'broker',
    [brokerCli, '--data-dir', dataDir, '--http', http, '--mqtt', mqtt, '--access-point', accessPoint],
    { SAG_API_TOKEN: token, SAG_LOG_LEVEL: logLevel },
  );
  const [, baseUrl, mqttUrl] = await firstLine(
    broker,
    /API:\s+(http:\/\/\S+)\/v1[\s\S]*MQTT:\s+(mqtt:\/\/\S+)/,
  );
  const api = apiClient(baseUrl, token);
  const ids = {};

  await createGateways(api, ids, step);

  const devices = {};
  for (const branch of BRANCHES) {
    const stateDir = join(labDir, branch.serial);
    devices[branch.serial] = initDevice(branch.serial, stateDir);
    step(2, `flashed device ${branch.serial}: public key ${devices[branch.serial].publicKey}`);
  }
  await bindDevices(api, ids, devices, step);
  for (const branch of BRANCHES) {
    start(branch.serial, [
      agentCli,
      'run',
      '--state-dir',
      join(labDir, branch.serial),
      '--broker',
      mqttUrl,
      '--log-level',
      logLevel,
    ]);
  }
  for (const id of ids.gateways) {
    await until(
      `${id} online`,
      async () => (await api.get(`/v1/gateways/${id}/status`)).presence === 'online',
    );
    step(2, `${id}: device connected, waiting for activation`);
  }

  let since = Date.now();
  await activateGateways(api, ids, step);
  await waitInSync(api, ids, 3, since);

  since = Date.now();
  await configureNetwork(api, ids, step);
  await waitInSync(api, ids, 4, since);
  for (const [index, branch] of BRANCHES.entries()) {
    const { config } = await api.get(`/v1/gateways/${ids.gateways[index]}/config`);
    step(4, `${branch.name} routes: ${config.routes.map((r) => r.destination).join(', ')}`);
  }

  await createInstances(api, ids, step);
  for (const result of await accessMatrix(api, ids)) {
    step(6, `before the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  await authorizeBranches(api, ids, step);
  for (const result of await accessMatrix(api, ids)) {
    step(6, `after the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  const branchToBranch = await api.post('/v1/access-tests', {
    source: { gatewayId: ids.gateways[0], ip: BRANCHES[0].client },
    destination: { ip: BRANCHES[1].client },
    protocol: 'icmp',
  });
  step(6, `${BRANCHES[0].name} → ${BRANCHES[1].name} icmp: ${verdict(branchToBranch)}`);
  const probe = await api.post(`/v1/gateways/${ids.gateways[0]}/probes`, {
    destination: VPCS[0].instanceIp,
    protocol: 'tcp',
    port: 22,
  });
  step(6, `live probe from device ${probe.seenBy} to ${VPCS[0].instanceIp} tcp/22: ${verdict(probe)}`);

  console.log(`\nOpenSAG lab is up (state in ${labDir}).
  API:    ${baseUrl}/v1   (token: ${token})
  docs:   ${baseUrl}/docs
  MQTT:   ${mqttUrl}
  agents: ${BRANCHES.map((b) => `${b.serial} (${b.name})`).join(', ')}
Try: node packages/agent/dist/cli.js status --state-dir .lab/${BRANCHES[0].serial}
Press Ctrl-C to stop.`);
}

main().catch((err) => {
  console.error(`lab: ${err.message}`);
  stop(1);
});
