// Real traffic from the lab's namespaces, read the way a person reads ping and curl.
import { inNamespaceAsync, spawnInNamespace, stopChild } from '../../scripts/netnsLab.mjs';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const run = (ns: string, cmd: string, args: string[]): Promise<CommandResult> =>
  inNamespaceAsync(ns, cmd, args);

/** `ping -c count`: resolves with how many went out and came back. */
export async function ping(
  ns: string,
  to: string,
  { count = 2, intervalS = 0.2, waitS = 1 } = {},
): Promise<{ sent: number; received: number; output: string }> {
  const args = ['-n', '-c', String(count), '-i', String(intervalS), '-W', String(waitS), to];
  const result = await run(ns, 'ping', args);
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
  return {
    sent: Number(summary?.[1] ?? count),
    received: Number(summary?.[2] ?? 0),
    output: `${result.stdout}${result.stderr}`.trim(),
  };
}

/** `curl http://ip/` with a short timeout; resolves with the exit code and the body. */
export function httpGet(ns: string, ip: string, timeoutS = 3): Promise<CommandResult> {
  return run(ns, 'curl', ['-sS', '-m', String(timeoutS), `http://${ip}/`]);
}

const TCP_CONNECT = `
const [ip, port, timeout] = process.argv.slice(1);
const socket = require('node:net').connect({ host: ip, port: Number(port), timeout: Number(timeout) });
socket.on('connect', () => { console.log('connected'); socket.resume().end(); });
socket.on('timeout', () => { console.log('no answer within ' + timeout + ' ms'); process.exit(1); });
socket.on('error', (err) => { console.log(err.code); process.exit(1); });
`;

/** Whether a TCP connection from `ns` to ip:port completes (SYN answered by SYN-ACK) within `timeoutMs`. */
export async function tcpConnects(ns: string, ip: string, port: number, timeoutMs = 2000) {
  const result = await run(ns, process.execPath, ['-e', TCP_CONNECT, ip, String(port), String(timeoutMs)]);
  return { connected: result.code === 0, said: `${result.stdout}${result.stderr}`.trim() };
}

export interface PingTimeline {
  sent: number;
  received: number;
  /** Receive times of the replies, ms since the epoch, in order. */
  replies: number[];
}

/**
 * A ping that runs until stopped, every `intervalS`, with `-D` timestamps on each reply; `stop()`
 * ends it (SIGINT, so it prints its summary) and resolves with what it saw.
 */
export function startPingTimeline(ns: string, to: string, intervalS = 0.02) {
  const child = spawnInNamespace(ns, 'ping', ['-n', '-D', '-i', String(intervalS), '-W', '1', to]);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop(): Promise<PingTimeline> {
      child.kill('SIGINT');
      const timer = setTimeout(() => stopChild(child, { graceMs: 0 }), 3000);
      await exited;
      clearTimeout(timer);
      stopChild(child, { graceMs: 0 });
      const summary = /(\d+) packets transmitted, (\d+) received/.exec(output);
      const replies = [...output.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from /gm)].map((m) =>
        Math.round(Number(m[1]) * 1000),
      );
      return { sent: Number(summary?.[1] ?? 0), received: Number(summary?.[2] ?? 0), replies };
    },
  };
}

/** The longest gap, in ms, between consecutive replies from the last one before `from` on. */
export function longestGap(replies: number[], from: number): number {
  let previous = replies.filter((t) => t <= from).at(-1) ?? from;
  let gapMs = 0;
  for (const at of replies.filter((t) => t > from)) {
    gapMs = Math.max(gapMs, at - previous);
    previous = at;
  }
  return gapMs;
}
