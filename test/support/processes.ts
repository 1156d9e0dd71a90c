import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BROKER_CLI = join(ROOT, 'packages/broker/dist/cli.js');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');

const tempDirs: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `opensag-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir() made so far (after the processes using them ended). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Resolves with the first match of `pattern` in the child's stdout. */
export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} in output within ${timeoutMs} ms; got:\n${seen}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process exited (${code}) before ${pattern}; output:\n${seen}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface BrokerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  dataDir: string;
  /** `mqtt://host:port` of the device listener, as the broker printed it. */
  mqttUrl: string;
  /** `host:port` of each listener, so a restart can take the very same ports. */
  httpAddress: string;
  mqttAddress: string;
  /** `host:port` of the embedded access point (UDP). */
  accessPointAddress: string;
  /** Everything the broker wrote: its banner on stdout and its pino log (JSON lines) on stderr. */
  log(): string;
  /** The pino log parsed line by line (lines that are not JSON are left out). */
  logEntries(): Record<string, unknown>[];
  /** SIGSTOP: the process, its API, MQTT and embedded access point stop answering at once. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface BrokerOptions {
  dataDir?: string;
  token?: string;
  env?: Record<string, string>;
  /** host:port of each listener; ephemeral loopback ports by default. */
  http?: string;
  mqtt?: string;
  accessPoint?: string;
  /** Written to a JSON file handed over with --config (keepalive, accessPoints, quotas...). */
  config?: Record<string, unknown>;
}

// Plain (http, mqtt) or, with SAG_TLS_CERT and SAG_TLS_KEY, TLS (https, mqtts) listeners.
const STARTED =
  /API:\s+(https?:\/\/\S+)\/v1[\s\S]*MQTT:\s+(mqtts?:\/\/(\S+))[\s\S]*access point: udp (\S+)\n/;

/** Starts `sag-broker` on ephemeral loopback ports; the data directory survives restarts. */
export async function startBroker(options: BrokerOptions = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDir('broker');
  const token = options.token ?? randomBytes(18).toString('base64url');
  const args = [
    BROKER_CLI,
    '--data-dir',
    dataDir,
    '--http',
    options.http ?? '127.0.0.1:0',
    '--mqtt',
    options.mqtt ?? '127.0.0.1:0',
    '--access-point',
    options.accessPoint ?? '127.0.0.1:0',
  ];
  if (options.config) {
    const file = join(tempDir('broker-config'), 'broker.json');
    writeFileSync(file, JSON.stringify(options.config));
    args.push('--config', file);
  }
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SAG_API_TOKEN: token, SAG_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  let started: RegExpMatchArray;
  try {
    started = await waitForOutput(child, STARTED);
  } catch (err) {
    if (running()) child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nbroker output:\n${output}`);
  }
  const [, url, mqttUrl, mqttAddress, accessPointAddress] = started;
  let paused = false;
  const broker: BrokerProcess = {
    child,
    url,
    token,
    dataDir,
    mqttUrl,
    httpAddress: new URL(url).host,
    mqttAddress,
    accessPointAddress,
    log: () => output,
    logEntries: () => parseJsonLines(output),
    pause() {
      if (running()) child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (running()) child.kill('SIGCONT');
      paused = false;
    },
    async stop() {
      if (paused) broker.resume();
      if (running()) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      // SIGKILL also ends a stopped process.
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
  return broker;
}

/** JSON log lines (pino, or the agent's own) as objects; anything else is skipped. */
export function parseJsonLines(text: string): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      // a line cut in the middle of a write: the rest arrives with the next chunk
    }
  }
  return entries;
}

/** A tiny HTTP client for the API: returns status and parsed body, never throws on 4xx/5xx. */
export function api(broker: { url: string; token: string }) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${broker.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${broker.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}
