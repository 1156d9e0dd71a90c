import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AgentStatus } from '@opensag/agent';
import { AGENT_CLI, parseJsonLines, tempDir } from './processes.js';

const run = promisify(execFile);

/** What `sag-agent init` made: the identity to bind, and where it lives. */
export interface AgentIdentity {
  serialNumber: string;
  publicKey: string;
  stateDir: string;
}

export interface AgentLogEntry {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface AgentProcess {
  child: ChildProcess;
  identity: AgentIdentity;
  /** Date.now() just before the process was spawned. */
  spawnedAt: number;
  /** Everything the agent wrote (its banner on stdout, JSON log lines on stderr). */
  output(): string;
  logEntries(): AgentLogEntry[];
  /** Resolves with the first log entry (from `fromIndex` on) whose msg is `msg` and that passes `match`. */
  waitForLog(msg: string, options?: WaitForLogOptions): Promise<AgentLogEntry>;
  running(): boolean;
  /** SIGTERM, SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

export interface WaitForLogOptions {
  fromIndex?: number;
  match?: (entry: AgentLogEntry) => boolean;
  timeoutMs?: number;
}

/** `sag-agent init --serial SN --state-dir DIR` in a fresh state directory. */
export async function initAgent(serialNumber: string): Promise<AgentIdentity> {
  const stateDir = tempDir(`agent-${serialNumber}`);
  const { stdout } = await run(process.execPath, [
    AGENT_CLI,
    'init',
    '--serial',
    serialNumber,
    '--state-dir',
    stateDir,
  ]);
  const printed = JSON.parse(stdout) as { serialNumber: string; publicKey: string };
  return { ...printed, stateDir };
}

/** `sag-agent run` against `brokerUrl`, logging at info so the test can read what it did. */
export function runAgent(identity: AgentIdentity, brokerUrl: string): AgentProcess {
  const spawnedAt = Date.now();
  const child = spawn(
    process.execPath,
    [AGENT_CLI, 'run', '--state-dir', identity.stateDir, '--broker', brokerUrl, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const logEntries = () => parseJsonLines(output) as AgentLogEntry[];

  const waitForLog = (msg: string, options: WaitForLogOptions = {}) =>
    new Promise<AgentLogEntry>((resolve, reject) => {
      const { fromIndex = 0, match = () => true, timeoutMs = 15_000 } = options;
      const check = () => {
        const found = logEntries()
          .slice(fromIndex)
          .find((entry) => entry.msg === msg && match(entry));
        if (found) {
          done();
          resolve(found);
        } else if (!running()) {
          done();
          reject(new Error(`agent ${identity.serialNumber} exited before logging "${msg}":\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`agent ${identity.serialNumber} did not log "${msg}" within ${timeoutMs} ms:\n${output}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', check);
      };
      listeners.add(check);
      child.on('exit', check);
      check();
    });

  return {
    child,
    identity,
    spawnedAt,
    output: () => output,
    logEntries,
    waitForLog,
    running,
    async stop(graceMs = 5000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `sag-agent status --state-dir DIR --json`, parsed. */
export async function agentStatus(stateDir: string): Promise<AgentStatus> {
  const { stdout } = await run(process.execPath, [AGENT_CLI, 'status', '--state-dir', stateDir, '--json']);
  return JSON.parse(stdout) as AgentStatus;
}

/**
 * The status.json the running agent keeps (the very file `sag-agent status` prints), read
 * directly so tight polling does not start a process each time. Null while it is missing or
 * being replaced.
 */
export function readStatusFile(stateDir: string): AgentStatus | null {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')) as AgentStatus;
  } catch {
    return null;
  }
}
