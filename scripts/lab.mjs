// `npm run lab`: the broker and the two branch agents (Hangzhou, Ningbo) on loopback, with the
// reference scenario walked step by step over the HTTP API. No Docker. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  activateGateways,
  apiClient,
  BRANCHES,
  bindDevices,
  configureNetwork,
  createGateways,
  securityAndAccess,
  waitInSync,
  waitOnline,
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
  await waitOnline(api, ids, step);

  let since = Date.now();
  await activateGateways(api, ids, step);
  await waitInSync(api, ids, 3, since, step);

  since = Date.now();
  await configureNetwork(api, ids, step);
  await waitInSync(api, ids, 4, since, step);
  for (const [index, branch] of BRANCHES.entries()) {
    const { config } = await api.get(`/v1/gateways/${ids.gateways[index]}/config`);
    step(4, `${branch.name} routes: ${config.routes.map((r) => r.destination).join(', ')}`);
  }

  await securityAndAccess(api, ids, step);

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
