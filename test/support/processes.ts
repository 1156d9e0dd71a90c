import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BROKER_CLI = join(ROOT, 'packages/broker/dist/cli.js');
export const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `opensag-${prefix}-`));
}

/** Resolves with the first match of `pattern` in the child's stdout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
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
  /** Everything the broker wrote to stderr (its pino log). */
  log(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `sag-broker` on ephemeral loopback ports; the data directory survives restarts. */
export async function startBroker(options: { dataDir?: string; token?: string; env?: Record<string, string> } = {}) {
  const dataDir = options.dataDir ?? tempDir('broker');
  const token = options.token ?? randomBytes(18).toString('base64url');
  const child = spawn(
    process.execPath,
    [BROKER_CLI, '--data-dir', dataDir, '--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0', '--access-point', '127.0.0.1:0'],
    { env: { ...process.env, SAG_API_TOKEN: token, SAG_LOG_LEVEL: 'info', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [, url] = await waitForOutput(child, /API:\s+(http:\/\/\S+)\/v1/);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const broker: BrokerProcess = {
    child,
    url,
    token,
    dataDir,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return broker;
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
