// The processes of the network-namespace lab: commands run on the host or inside a namespace, the
// broker and the agents, and their teardown. Every process started here is tracked, so teardown
// ends it even after a failure; a broker a killed run left behind is found through its pid file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const LAB_DIR = join(ROOT, '.lab-netns');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');
export const BROKER_CLI = join(ROOT, 'packages/broker/dist/cli.js');

const BROKER_PID_FILE = join(LAB_DIR, 'broker.pid');
/** @type {Set<import('node:child_process').ChildProcess>} every process this module started */
const started = new Set();

/** Runs a program on the host; never throws. */
export function host(cmd, args, { input } = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 16 * 1024 * 1024 });
  return {
    code: result.status ?? 127,
    stdout: result.stdout ?? '',
    stderr: result.stderr || (result.error?.message ?? ''),
  };
}

/** Runs a program inside namespace `ns` and waits for it; never throws. */
export function inNamespace(ns, cmd, args = [], opts = {}) {
  return host('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** The same, without blocking the event loop (for commands that wait, like DHCP). */
export function inNamespaceAsync(ns, cmd, args = []) {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Where the agent in `ns` keeps its private /var/run/wireguard. */
export const wireguardRunDir = (ns) => join(LAB_DIR, 'run', ns);

/**
 * `wg` inside namespace `ns`, looking through the private /var/run/wireguard its agent uses
 * (wireguard-go's control sockets live there, so a plain `wg show` in the namespace sees nothing).
 */
export function wireguardIn(ns, args = ['show']) {
  return inNamespace(ns, 'sh', [
    '-c',
    'mount --bind "$0" /var/run/wireguard && exec wg "$@"',
    wireguardRunDir(ns),
    ...args,
  ]);
}

/**
 * A process inside namespace `ns`, tracked so teardown ends it. With `wireguardRunDir`, the process
 * gets a private /var/run/wireguard (wireguard-go and wg hard-code that path; namespaces on one host
 * would share it); `ip netns exec` already gives it a mount namespace of its own.
 */
export function spawnInNamespace(ns, cmd, args = [], { wireguardRunDir, env = {} } = {}) {
  const wrapped = wireguardRunDir
    ? [
        'sh',
        '-c',
        'mkdir -p /var/run/wireguard "$SAG_WG_RUN" && mount --bind "$SAG_WG_RUN" /var/run/wireguard && exec "$0" "$@"',
        cmd,
        ...args,
      ]
    : [cmd, ...args];
  const child = spawn('ip', ['netns', 'exec', ns, ...wrapped], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...(wireguardRunDir ? { SAG_WG_RUN: wireguardRunDir } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  return child;
}

/** A process on the host (the broker), tracked like the others. */
export function spawnOnHost(cmd, args, env = {}) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  return child;
}

/** Resolves with the first match of `pattern` in the child's stdout (or `stream`); rejects if it exits first. */
export function waitForLine(child, pattern, timeoutMs, what, stream = child.stdout) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (fn, value) => {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      fn(value);
    };
    const timer = setTimeout(
      () => done(reject, new Error(`${what}: nothing like ${pattern} within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) done(resolve, match);
    };
    const onExit = (code, signal) =>
      done(reject, new Error(`${what}: exited (${signal ?? code}) before ${pattern}:\n${seen}`));
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Copies a child's output, each line prefixed with its name; reading also keeps a chatty child from blocking. */
export function forwardOutput(child, name, write = (text) => process.stdout.write(text)) {
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      const lines = chunk.toString().split('\n').filter(Boolean);
      if (write) write(lines.map((line) => `[${name}] ${line}\n`).join(''));
    });
  }
}

/** `sag-agent init`: the device identity in `stateDir`; resolves with {serialNumber, publicKey}. */
export function initIdentity(serial, stateDir) {
  const result = host(process.execPath, [AGENT_CLI, 'init', '--serial', serial, '--state-dir', stateDir]);
  if (result.code !== 0) throw new Error(`sag-agent init --serial ${serial} failed: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout);
}

/**
 * The broker on the host with MQTT on `mqtt` and its embedded access point on `accessPoint`.
 * Resolves once it listens, with its URLs as its banner printed them (port 0 picks a free port).
 */
export async function startBrokerProcess({
  token,
  configFile,
  dataDir,
  http,
  mqtt,
  accessPoint,
  logLevel,
  write,
}) {
  const args = [
    BROKER_CLI,
    '--data-dir',
    dataDir,
    '--http',
    http,
    '--mqtt',
    mqtt,
    '--access-point',
    accessPoint,
  ];
  if (configFile) args.push('--config', configFile);
  const child = spawnOnHost(process.execPath, args, { SAG_API_TOKEN: token, SAG_LOG_LEVEL: logLevel });
  recordBrokerPid(child.pid);
  const ready = waitForLine(
    child,
    /API:\s+(http:\/\/\S+)\/v1[\s\S]*MQTT:\s+(mqtt:\/\/\S+)/,
    20_000,
    'the broker',
  );
  forwardOutput(child, 'broker', write);
  const [, url, mqttUrl] = await ready;
  return { child, url, mqttUrl };
}

/** `sag-agent run --dataplane linux` inside `namespace`, with its own /var/run/wireguard. */
export function startAgent({
  namespace,
  stateDir,
  brokerUrl,
  role = 'branch',
  listen,
  logLevel = process.env.SAG_LOG_LEVEL ?? 'warn',
  name = namespace,
  dataplane = 'linux',
  write,
}) {
  const args = [AGENT_CLI, 'run', '--state-dir', stateDir, '--broker', brokerUrl, '--dataplane', dataplane];
  if (role !== 'branch') args.push('--role', role);
  if (listen) args.push('--listen', listen);
  args.push('--log-level', logLevel);
  const runDir = wireguardRunDir(namespace);
  mkdirSync(runDir, { recursive: true });
  const child = spawnInNamespace(namespace, process.execPath, args, { wireguardRunDir: runDir });
  forwardOutput(child, name, write);
  return child;
}

const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A process that is gone or a zombie no longer holds a namespace or a port. */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function signal(pids, name) {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, a grace period, then SIGKILL for whatever is left. */
function stopPids(pids, graceMs) {
  const living = [...new Set(pids)].filter(alive);
  if (living.length === 0) return;
  signal(living, 'SIGTERM');
  for (let waited = 0; waited < graceMs && living.some(alive); waited += 50) pause(50);
  signal(living.filter(alive), 'SIGKILL');
  for (let waited = 0; waited < 2000 && living.some(alive); waited += 50) pause(50);
}

/** Stops one process this module started (SIGTERM, then SIGKILL after `graceMs`). */
export function stopChild(child, { graceMs = 5000 } = {}) {
  stopPids([child.pid], graceMs);
  started.delete(child);
}

const pidsIn = (ns) =>
  host('ip', ['netns', 'pids', ns])
    .stdout.split('\n')
    .filter((pid) => /^\d+$/.test(pid.trim()))
    .map(Number);

/** The processes inside namespace `ns` now: pid, program name and arguments. */
export function processesIn(ns) {
  return pidsIn(ns).flatMap((pid) => {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      return [{ pid, comm, args }];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/**
 * Ends every process in namespace `ns` and deletes it (its veths vanish with it, peers included).
 * `graceMs: 0` is a crash: SIGKILL follows SIGTERM at once, so nothing cleans up.
 */
export function removeNamespace(ns, { graceMs = 3000 } = {}) {
  // Twice: a process stopping cleanly may start helpers (ip, wg) on its way out.
  for (let pass = 0; pass < 2; pass++) stopPids(pidsIn(ns), graceMs);
  host('ip', ['netns', 'del', ns]);
}

/**
 * Ends every process this module started (those in namespaces first, so agents can clean up, then
 * the broker) and a broker a killed run left behind. Synchronous, so it also runs from an exit handler.
 */
export function stopStartedProcesses({ graceMs = 5000 } = {}) {
  const inNamespaces = [...started].filter((c) => c.spawnargs[0] === 'ip');
  stopPids(
    inNamespaces.map((c) => c.pid),
    graceMs,
  );
  stopPids(
    [...started].map((c) => c.pid),
    graceMs,
  );
  started.clear();
  stopStaleBroker();
}

/** Records the broker's pid so a later run can end a broker a killed run left behind. */
export function recordBrokerPid(pid) {
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(BROKER_PID_FILE, `${pid}\n`);
}

function stopStaleBroker() {
  if (!existsSync(BROKER_PID_FILE)) return;
  const pid = Number(readFileSync(BROKER_PID_FILE, 'utf8').trim());
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // gone already
  }
  // Only our broker: a reused pid belongs to someone else.
  if (cmdline.includes(join(ROOT, 'packages/broker')) && cmdline.includes(LAB_DIR)) stopPids([pid], 5000);
  writeFileSync(BROKER_PID_FILE, '');
}
