import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceConfig } from '../../config.js';
import { processOfPidFile } from './pidFile.js';
import type { Change, Command } from './runner.js';

/** One dnsmasq serving the DHCP pool of one LAN port. */
export interface DhcpServer {
  port: string;
  pidFile: string;
  /** The full argument list; a running server with other arguments is restarted. */
  args: string[];
}

export interface RunningDhcpServer {
  port: string;
  pidFile: string;
  /** null when the pid file names no live dnsmasq. */
  pid: number | null;
  args: string[];
}

const PID_FILE = /^dnsmasq-(.+)\.pid$/;

export function dhcpPidFile(stateDir: string, port: string): string {
  return join(stateDir, `dnsmasq-${port}.pid`);
}

/**
 * A dnsmasq per LAN port with a pool: DHCP only (`--port=0` turns DNS off), bound to that port,
 * leases and pid in the state directory; clients get the WAN's DNS servers when the config has any.
 */
export function desiredDhcp(config: DeviceConfig | null, stateDir: string): DhcpServer[] {
  if (!config) return [];
  const dns = [...new Set(config.ports.wan.flatMap((port) => port.dns ?? []))];
  return config.ports.lan.flatMap((port) => {
    if (!port.dhcp) return [];
    const pidFile = dhcpPidFile(stateDir, port.name);
    const args = [
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=0',
      `--interface=${port.name}`,
      '--except-interface=lo',
      '--bind-interfaces',
      `--dhcp-range=${port.dhcp.start},${port.dhcp.end},${port.dhcp.leaseMinutes}m`,
      `--dhcp-leasefile=${join(stateDir, `dnsmasq-${port.name}.leases`)}`,
      `--pid-file=${pidFile}`,
      ...(dns.length > 0 ? [`--dhcp-option=option:dns-server,${dns.join(',')}`] : []),
    ];
    return [{ port: port.name, pidFile, args }];
  });
}

/** The dnsmasq servers this data plane started, found through their pid files in `stateDir`. */
export async function readDhcpServers(stateDir: string): Promise<RunningDhcpServer[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const servers: RunningDhcpServer[] = [];
  for (const name of names.sort()) {
    const match = PID_FILE.exec(name);
    if (!match) continue;
    const pidFile = join(stateDir, name);
    const { pid, argv } = await processOfPidFile(pidFile);
    // Only a dnsmasq started with this very pid file counts; a reused pid is someone else's.
    const ours = argv?.[0]?.endsWith('dnsmasq') === true && argv.includes(`--pid-file=${pidFile}`);
    servers.push({
      port: match[1],
      pidFile,
      pid: ours ? pid : null,
      args: ours && argv ? argv.slice(1) : [],
    });
  }
  return servers;
}

function stopCommands(server: RunningDhcpServer): Command[] {
  if (server.pid === null) return [{ cmd: 'rm', args: ['-f', server.pidFile] }];
  const pid = String(server.pid);
  // Wait for the old one to let go of the DHCP socket before a new one binds it.
  return [
    { cmd: 'kill', args: [pid] },
    { cmd: 'timeout', args: ['5', 'tail', `--pid=${pid}`, '-f', '/dev/null'] },
    { cmd: 'rm', args: ['-f', server.pidFile] },
  ];
}

function describePool(server: DhcpServer): string {
  return server.args.find((arg) => arg.startsWith('--dhcp-range='))?.slice('--dhcp-range='.length) ?? '';
}

/** Starts missing servers, restarts those whose arguments changed, stops the unconfigured ones. */
export function planDhcp(desired: readonly DhcpServer[], running: readonly RunningDhcpServer[]): Change[] {
  const have = new Map(running.map((server) => [server.port, server]));
  const want = new Set(desired.map((server) => server.port));
  const changes: Change[] = [];
  for (const server of running) {
    if (want.has(server.port)) continue;
    const reason =
      server.pid === null
        ? `a stale dnsmasq pid file for port ${server.port} is left`
        : `dnsmasq ${server.pid} serves port ${server.port}, which has no DHCP pool configured`;
    changes.push({ reason, commands: stopCommands(server) });
  }
  for (const server of desired) {
    const current = have.get(server.port);
    if (current?.pid && current.args.join('\0') === server.args.join('\0')) continue;
    const reason = !current?.pid
      ? `no dnsmasq serves the DHCP pool ${describePool(server)} on port ${server.port}`
      : `dnsmasq ${current.pid} on port ${server.port} runs with other settings than pool ${describePool(server)}`;
    changes.push({
      reason,
      commands: [...(current ? stopCommands(current) : []), { cmd: 'dnsmasq', args: server.args }],
    });
  }
  return changes;
}
