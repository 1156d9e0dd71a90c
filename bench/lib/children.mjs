// Child processes of the fleet benchmark: spawned with the open-files limit raised to the hard
// limit, tracked so every one of them is killed when the benchmark ends, fails or is interrupted.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const children = new Set();

/** Kills every child still running (SIGKILL: the benchmark is over or has failed). */
export function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`fleet: ${signal}, stopping every child process`);
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Starts `node <nodeArgs…> <script> <args…>` through `sh -c 'ulimit -n <hard>; exec …'` (Node
 * cannot raise its own limit), its output appended to `logFile`. `ipc` adds a message channel.
 */
export function spawnNode({ nodeArgs = [], script, args = [], logFile, env = {}, ipc = false }) {
  hookExit();
  const log = openSync(logFile, 'a');
  const stdio = ['ignore', log, log, ...(ipc ? ['ipc'] : [])];
  const child = spawn(
    'sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      'sh',
      process.execPath,
      ...nodeArgs,
      script,
      ...args,
    ],
    { stdio, env: { ...process.env, ...env } },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
export async function stopChild(child, signal = 'SIGTERM', graceMs = 30_000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The hard and soft open-files limits of this process. */
export function openFilesLimits(pid = 'self') {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  const value = (text) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
  return match ? { soft: value(match[1]), hard: value(match[2]) } : null;
}

/** A TCP port free on loopback right now. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A UDP port free on loopback right now. */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` (async) every `everyMs` until it returns something truthy; throws `what` at the deadline. */
export async function waitFor(check, { timeoutMs, everyMs = 100, what }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
