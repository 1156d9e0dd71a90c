import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../../config.js';
import { type InstalledLink, wanRouteMetrics } from './addresses.js';
import { processOfPidFile } from './pidFile.js';
import type { Change, Command } from './runner.js';
import { renderLeaseScript } from './wanDhcpScript.js';

/** One udhcpc keeping the lease of one DHCP WAN port; its files live in the state directory. */
export interface WanDhcpClient {
  port: string;
  pidFile: string;
  scriptFile: string;
  leaseFile: string;
  /** The lease script's text; a client running with another script is restarted. */
  script: string;
  /** The full argument list; a client running with other arguments is restarted. */
  args: string[];
}

export interface RunningWanDhcpClient {
  port: string;
  pidFile: string;
  scriptFile: string;
  leaseFile: string;
  /** null when the pid file names no live udhcpc of this port. */
  pid: number | null;
  args: string[];
  /** The lease script on disk, or null when there is none. */
  script: string | null;
}

/** A lease as the lease script records it. */
export interface WanLease {
  port: string;
  /** The leased address with its prefix, e.g. 198.51.100.52/24. */
  address: string;
  ip: string;
  mask: number;
  router: string | null;
  /** Recorded only: the agent never writes /etc/resolv.conf. */
  dns: string[];
  leaseSeconds: number;
  serverId: string | null;
  metric: number;
  obtainedAt: string;
}

const PID_FILE = /^udhcpc-(.+)\.pid$/;

function clientFiles(stateDir: string, port: string) {
  return {
    pidFile: join(stateDir, `udhcpc-${port}.pid`),
    scriptFile: join(stateDir, `udhcpc-${port}.script`),
    leaseFile: join(stateDir, `udhcpc-${port}.lease.json`),
  };
}

/**
 * A udhcpc per DHCP WAN port. `-b` returns once a lease is bound (or after its discover attempts
 * fail, then it keeps trying in the background), so the tunnels step that follows finds the WAN
 * ready; `-R` releases the lease when the client is stopped, and the script then removes it.
 */
export function desiredWanDhcp(config: DeviceConfig | null, stateDir: string): WanDhcpClient[] {
  if (!config) return [];
  const metrics = wanRouteMetrics(config);
  return config.ports.wan
    .filter((port) => port.mode === 'dhcp')
    .map((port) => {
      const files = clientFiles(stateDir, port.name);
      const metric = metrics.get(port.name) as number;
      return {
        port: port.name,
        ...files,
        script: renderLeaseScript({ port: port.name, metric, leaseFile: files.leaseFile }),
        args: ['-b', '-R', '-i', port.name, '-p', files.pidFile, '-s', files.scriptFile],
      };
    });
}

function hasOption(argv: readonly string[], flag: string, value: string): boolean {
  return argv.some((arg, i) => arg === flag && argv[i + 1] === value);
}

/** The udhcpc clients this data plane started, found through their pid files in `stateDir`. */
export async function readWanDhcpClients(stateDir: string): Promise<RunningWanDhcpClient[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const clients: RunningWanDhcpClient[] = [];
  for (const name of names.sort()) {
    const match = PID_FILE.exec(name);
    if (!match) continue;
    const port = match[1];
    const files = clientFiles(stateDir, port);
    const { pid, argv } = await processOfPidFile(files.pidFile);
    // Only a udhcpc of this port with this very pid file counts; a reused pid is someone else's.
    const ours =
      argv !== null &&
      argv[0]?.endsWith('udhcpc') === true &&
      hasOption(argv, '-i', port) &&
      hasOption(argv, '-p', files.pidFile);
    clients.push({
      port,
      ...files,
      pid: ours ? pid : null,
      args: ours && argv ? argv.slice(1) : [],
      script: await readFile(files.scriptFile, 'utf8').catch(() => null),
    });
  }
  return clients;
}

/** The lease of `port` as its script last recorded it, or null when it holds none. */
export function readWanLease(stateDir: string, port: string): WanLease | null {
  try {
    return JSON.parse(readFileSync(clientFiles(stateDir, port).leaseFile, 'utf8')) as WanLease;
  } catch {
    return null;
  }
}

function stopCommands(client: RunningWanDhcpClient): Command[] {
  const remove: Command = { cmd: 'rm', args: ['-f', client.pidFile, client.leaseFile, client.scriptFile] };
  if (client.pid === null) {
    // A client that died without releasing: its own script removes what it had leased.
    const deconfig: Command[] =
      client.script === null ? [] : [{ cmd: 'sh', args: [client.scriptFile, 'deconfig'] }];
    return [...deconfig, remove];
  }
  const pid = String(client.pid);
  // SIGTERM: udhcpc releases the lease (-R) and runs the script's deconfig; wait until it is done.
  return [
    { cmd: 'kill', args: [pid] },
    { cmd: 'timeout', args: ['5', 'tail', `--pid=${pid}`, '-f', '/dev/null'] },
    remove,
  ];
}

function sameClient(running: RunningWanDhcpClient, wanted: WanDhcpClient): boolean {
  return running.args.join('\0') === wanted.args.join('\0') && running.script === wanted.script;
}

/**
 * Stops clients of ports that are no longer DHCP WAN ports and clients running with other
 * settings, and clears what dead ones left. Runs before the ports step, so a port turning static
 * gets its new address only after the lease is gone.
 */
export function planWanDhcpStops(
  desired: readonly WanDhcpClient[],
  running: readonly RunningWanDhcpClient[],
): Change[] {
  const want = new Map(desired.map((client) => [client.port, client]));
  const changes: Change[] = [];
  for (const client of running) {
    const wanted = want.get(client.port);
    if (client.pid !== null && wanted && sameClient(client, wanted)) continue;
    const reason =
      client.pid === null
        ? `a stale udhcpc pid file for WAN port ${client.port} is left`
        : wanted
          ? `udhcpc ${client.pid} on WAN port ${client.port} runs with other settings (arguments or lease script)`
          : `udhcpc ${client.pid} keeps a lease on port ${client.port}, which is not a DHCP WAN port in the config`;
    changes.push({ reason, commands: stopCommands(client) });
  }
  return changes;
}

/**
 * Starts a client for each DHCP WAN port that has none, writing its lease script first. Ports
 * missing from the machine are skipped (the ports step names them); a running client is left to
 * `planWanDhcpStops`.
 */
export function planWanDhcpStarts(
  desired: readonly WanDhcpClient[],
  running: readonly RunningWanDhcpClient[],
  links: readonly InstalledLink[],
): Change[] {
  const present = new Set(links.map((link) => link.name));
  const alive = new Set(running.filter((client) => client.pid !== null).map((client) => client.port));
  return desired
    .filter((client) => present.has(client.port) && !alive.has(client.port))
    .map((client) => ({
      reason: `no DHCP client keeps a lease on WAN port ${client.port}`,
      commands: [
        {
          cmd: 'sh',
          args: ['-c', 'umask 077 && cat > "$1" && chmod 700 "$1"', 'sh', client.scriptFile],
          input: client.script,
        },
        { cmd: 'udhcpc', args: client.args },
      ],
    }));
}
