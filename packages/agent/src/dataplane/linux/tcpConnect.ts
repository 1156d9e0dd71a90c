import { connect } from 'node:net';
import type { CommandRunner } from './runner.js';

export interface TcpConnectResult {
  connected: boolean;
  rttMs?: number;
  /** The socket error code (ECONNREFUSED, ETIMEDOUT, …) when not connected. */
  error?: string;
}

/** Opens and closes one TCP connection; the linux data plane's TCP probe. */
export type TcpConnect = (request: {
  destination: string;
  port: number;
  source?: string;
  timeoutMs: number;
}) => Promise<TcpConnectResult>;

function attempt(
  connectFn: typeof connect,
  destination: string,
  port: number,
  source: string | undefined,
  timeoutMs: number,
): Promise<TcpConnectResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connectFn({ host: destination, port, ...(source ? { localAddress: source } : {}) });
    const timer = setTimeout(() => finish({ connected: false, error: 'ETIMEDOUT' }), timeoutMs);
    function finish(result: TcpConnectResult) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once('connect', () =>
      finish({ connected: true, rttMs: Math.round((performance.now() - started) * 100) / 100 }),
    );
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish({ connected: false, error: err.code ?? err.message }),
    );
  });
}

/** Connects from this process, i.e. from the agent's own network namespace. */
export const connectInProcess: TcpConnect = ({ destination, port, source, timeoutMs }) =>
  attempt(connect, destination, port, source, timeoutMs);

// The same attempt as `connectInProcess`, as a standalone script for a spawned Node.
const CONNECT_SCRIPT = `
const net = require('node:net');
const [host, port, localAddress, timeoutMs] = process.argv.slice(1);
const started = performance.now();
const socket = net.connect({ host, port: Number(port), ...(localAddress ? { localAddress } : {}) });
const finish = (result) => { process.stdout.write(JSON.stringify(result)); socket.destroy(); process.exit(0); };
setTimeout(() => finish({ connected: false, error: 'ETIMEDOUT' }), Number(timeoutMs));
socket.once('connect', () => finish({ connected: true, rttMs: Math.round((performance.now() - started) * 100) / 100 }));
socket.once('error', (err) => finish({ connected: false, error: err.code || err.message }));
`;

/**
 * Connects from a Node process started through `runner`, e.g. inside another network namespace
 * (tests and the namespace lab run the data plane that way).
 */
export function connectViaRunner(runner: CommandRunner, node: string = process.execPath): TcpConnect {
  return async ({ destination, port, source, timeoutMs }) => {
    const result = await runner(node, [
      '-e',
      CONNECT_SCRIPT,
      destination,
      String(port),
      source ?? '',
      String(timeoutMs),
    ]);
    try {
      return JSON.parse(result.stdout) as TcpConnectResult;
    } catch {
      return { connected: false, error: result.stderr.trim() || `exit ${result.code}` };
    }
  };
}
