import { type DeviceConfig, parseHostPort, type TunnelConfig } from '../../config.js';
import { parseIpv4 } from '../../ipv4.js';
import type { Change, Command } from './runner.js';
import { isTunnelInterface, tunnelInterfaceName } from './wireguardNames.js';

export interface WireguardOptions {
  /** The WireGuard port of an access point is its probe port plus this (the probe owns that port). */
  endpointPortOffset: number;
  /** sag-wg0 listens on this port, sag-wg1 on the next. */
  listenPortBase: number;
  /** `auto` tries the kernel module first, then wireguard-go. */
  implementation: 'auto' | 'kernel' | 'userspace';
}

export const DEFAULT_WIREGUARD_OPTIONS: WireguardOptions = {
  endpointPortOffset: 1,
  listenPortBase: 51820,
  implementation: 'auto',
};

export const PERSISTENT_KEEPALIVE = 25;
/** Each tunnel interface has exactly one peer, so it may carry any destination the routes send it. */
export const PEER_ALLOWED_IPS = '0.0.0.0/0';

export interface DesiredTunnel {
  name: string;
  accessPoint: string;
  role: TunnelConfig['role'];
  peerPublicKey: string;
  endpoint: string;
  listenPort: number;
}

export interface SkippedTunnel {
  accessPoint: string;
  reason: string;
}

/** The tunnels a config asks for; those without a WireGuard key (or endpoint) are skipped with why. */
export function desiredTunnels(
  config: DeviceConfig | null,
  options: WireguardOptions = DEFAULT_WIREGUARD_OPTIONS,
): { tunnels: DesiredTunnel[]; skipped: SkippedTunnel[] } {
  const tunnels: DesiredTunnel[] = [];
  const skipped: SkippedTunnel[] = [];
  for (const tunnel of config?.tunnels ?? []) {
    const target = parseHostPort(tunnel.address);
    const port = target ? target.port + options.endpointPortOffset : 0;
    if (!tunnel.publicKey) {
      skipped.push({
        accessPoint: tunnel.accessPoint,
        reason: `tunnel to ${tunnel.accessPoint} not built: the access point has no WireGuard public key in the config (keepalive probes still go over the underlay)`,
      });
    } else if (!target || port > 65535) {
      skipped.push({
        accessPoint: tunnel.accessPoint,
        reason: `tunnel to ${tunnel.accessPoint} not built: ${tunnel.address} leaves no WireGuard port at probe port + ${options.endpointPortOffset}`,
      });
    } else {
      const name = tunnelInterfaceName(tunnel.role);
      tunnels.push({
        name,
        accessPoint: tunnel.accessPoint,
        role: tunnel.role,
        peerPublicKey: tunnel.publicKey,
        endpoint: `${target.host}:${port}`,
        listenPort: options.listenPortBase + (tunnel.role === 'active' ? 0 : 1),
      });
    }
  }
  return { tunnels, skipped };
}

export interface InstalledPeer {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  keepalive: number | null;
}

export interface InstalledTunnel {
  name: string;
  up: boolean;
  /** The interface's own public key, or null when no private key is set. */
  publicKey: string | null;
  listenPort: number | null;
  peers: InstalledPeer[];
}

/** Owned tunnel interface names from `ip -json link show`, with whether each is administratively up. */
export function parseTunnelLinks(json: string): { name: string; up: boolean }[] {
  const links = (json.trim() === '' ? [] : JSON.parse(json)) as { ifname: string; flags?: string[] }[];
  return links
    .filter((link) => isTunnelInterface(link.ifname))
    .map((link) => ({ name: link.ifname, up: link.flags?.includes('UP') ?? false }));
}

const none = (field: string | undefined) =>
  field === undefined || field === '(none)' || field === 'off' ? null : field;

/**
 * Splits `wg show all dump` (each line led by its interface name) into the `wg show NAME dump` text
 * of each interface.
 */
export function splitWgDumpAll(text: string): Map<string, string> {
  const dumps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const name = line.slice(0, tab);
    const lines = dumps.get(name) ?? [];
    lines.push(line.slice(tab + 1));
    dumps.set(name, lines);
  }
  return new Map([...dumps].map(([name, lines]) => [name, `${lines.join('\n')}\n`]));
}

/** Parses `wg show NAME dump`: the interface line, then one line per peer. */
export function parseWgDump(name: string, up: boolean, dump: string): InstalledTunnel {
  const [head = '', ...peerLines] = dump.trim().split('\n');
  const [, publicKey, listenPort] = head.split('\t');
  const peers = peerLines
    .filter((line) => line.trim() !== '')
    .map((line): InstalledPeer => {
      const [key, , endpoint, allowed, , , , keepalive] = line.split('\t');
      return {
        publicKey: key,
        endpoint: none(endpoint),
        allowedIps: none(allowed)?.split(',') ?? [],
        keepalive: none(keepalive) === null ? null : Number(keepalive),
      };
    });
  return {
    name,
    up,
    publicKey: none(publicKey),
    listenPort: none(listenPort) === null ? null : Number(listenPort),
    peers,
  };
}

function createCommand(name: string, implementation: WireguardOptions['implementation']): Command {
  const kernel: Command = { cmd: 'ip', args: ['link', 'add', 'dev', name, 'type', 'wireguard'] };
  const userspace: Command = { cmd: 'wireguard-go', args: [name] };
  if (implementation === 'kernel') return kernel;
  if (implementation === 'userspace') return userspace;
  return { ...kernel, fallback: userspace };
}

function peerCommand(tunnel: DesiredTunnel): Command {
  return {
    cmd: 'wg',
    args: [
      'set',
      tunnel.name,
      'peer',
      tunnel.peerPublicKey,
      'endpoint',
      tunnel.endpoint,
      'allowed-ips',
      PEER_ALLOWED_IPS,
      'persistent-keepalive',
      String(PERSISTENT_KEEPALIVE),
    ],
  };
}

function keyCommand(tunnel: DesiredTunnel, privateKeyFile: string): Command {
  return {
    cmd: 'wg',
    args: ['set', tunnel.name, 'private-key', privateKeyFile, 'listen-port', String(tunnel.listenPort)],
  };
}

/** A host name is resolved by wg when set, so only a literal address can be compared afterwards. */
function endpointMatches(want: string, have: string | null): boolean {
  const host = want.slice(0, want.lastIndexOf(':'));
  if (parseIpv4(host) === null) return have !== null;
  return want === have;
}

function peerDifference(tunnel: DesiredTunnel, peer: InstalledPeer | undefined): string | null {
  const label = `tunnel ${tunnel.name} (${tunnel.accessPoint})`;
  if (!peer) return `${label} has no peer ${tunnel.peerPublicKey}`;
  if (!endpointMatches(tunnel.endpoint, peer.endpoint))
    return `${label} peer endpoint is ${peer.endpoint ?? 'unset'}, want ${tunnel.endpoint}`;
  if (peer.allowedIps.join(',') !== PEER_ALLOWED_IPS)
    return `${label} peer allows ${peer.allowedIps.join(',') || 'nothing'}, want ${PEER_ALLOWED_IPS}`;
  if (peer.keepalive !== PERSISTENT_KEEPALIVE)
    return `${label} peer keepalive is ${peer.keepalive ?? 'off'}, want ${PERSISTENT_KEEPALIVE} s`;
  return null;
}

function planTunnel(tunnel: DesiredTunnel, installed: InstalledTunnel, key: TunnelKeyRef): Change[] {
  const label = `tunnel ${tunnel.name} (${tunnel.accessPoint})`;
  const changes: Change[] = [];
  if (installed.publicKey !== key.publicKey || installed.listenPort !== tunnel.listenPort) {
    changes.push({
      reason: `${label} has key ${installed.publicKey ?? 'unset'} port ${installed.listenPort ?? 'unset'}, want ${key.publicKey} port ${tunnel.listenPort}`,
      commands: [keyCommand(tunnel, key.privateKeyFile)],
    });
  }
  for (const peer of installed.peers) {
    if (peer.publicKey === tunnel.peerPublicKey) continue;
    changes.push({
      reason: `${label} has a peer ${peer.publicKey} that is not ${tunnel.accessPoint}`,
      commands: [{ cmd: 'wg', args: ['set', tunnel.name, 'peer', peer.publicKey, 'remove'] }],
    });
  }
  const peerReason = peerDifference(
    tunnel,
    installed.peers.find((p) => p.publicKey === tunnel.peerPublicKey),
  );
  if (peerReason) changes.push({ reason: peerReason, commands: [peerCommand(tunnel)] });
  if (!installed.up)
    changes.push({
      reason: `${label} is down`,
      commands: [{ cmd: 'ip', args: ['link', 'set', 'dev', tunnel.name, 'up'] }],
    });
  return changes;
}

/** A new tunnel's key, port and peer in one `wg set`. */
function setupCommand(tunnel: DesiredTunnel, privateKeyFile: string): Command {
  return {
    cmd: 'wg',
    args: [...keyCommand(tunnel, privateKeyFile).args, ...peerCommand(tunnel).args.slice(2)],
  };
}

export interface TunnelKeyRef {
  privateKeyFile: string;
  publicKey: string;
}

/** Creates missing tunnels, corrects changed ones, deletes owned tunnels no longer configured. */
export function planTunnels(
  desired: readonly DesiredTunnel[],
  installed: readonly InstalledTunnel[],
  key: TunnelKeyRef,
  implementation: WireguardOptions['implementation'] = 'auto',
): Change[] {
  const have = new Map(installed.map((t) => [t.name, t]));
  const want = new Set(desired.map((t) => t.name));
  const changes: Change[] = [];
  for (const tunnel of installed) {
    if (!want.has(tunnel.name))
      changes.push({
        reason: `tunnel ${tunnel.name} is installed but not configured`,
        commands: [{ cmd: 'ip', args: ['link', 'del', 'dev', tunnel.name] }],
      });
  }
  // New tunnels are brought up after all are built, so the `ip link set … up` lines run together.
  const bringUp: Change[] = [];
  for (const tunnel of desired) {
    const current = have.get(tunnel.name);
    if (current) {
      changes.push(...planTunnel(tunnel, current, key));
      continue;
    }
    const reason = `tunnel ${tunnel.name} (${tunnel.accessPoint}) is missing`;
    changes.push({
      reason,
      commands: [createCommand(tunnel.name, implementation), setupCommand(tunnel, key.privateKeyFile)],
    });
    bringUp.push({ reason, commands: [{ cmd: 'ip', args: ['link', 'set', 'dev', tunnel.name, 'up'] }] });
  }
  changes.push(...bringUp);
  return changes;
}
