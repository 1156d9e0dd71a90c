import type { Change, Command } from '../linux/runner.js';
import {
  type InstalledTunnel,
  parseWgDump,
  type TunnelKeyRef,
  type WireguardOptions,
} from '../linux/wireguard.js';
import type { EdgeConfig } from './edgeConfig.js';

/** The edge terminates every branch tunnel on this one interface; it never touches any other. */
export const EDGE_INTERFACE = 'sag-edge0';

export interface DesiredEdgePeer {
  gatewayId: string;
  publicKey: string;
  /** Sorted, so a read-back in another order is not a difference. */
  allowedIps: string[];
}

export interface DesiredEdgeInterface {
  listenPort: number;
  peers: DesiredEdgePeer[];
}

/**
 * One peer per gateway with its branch blocks as allowed-ips: WireGuard then sends each reply into
 * the tunnel of the branch it belongs to. No endpoint: the gateway dials in (probe port + 1) and
 * keeps the path alive, so the edge learns where each branch is.
 */
export function desiredEdgeInterface(config: EdgeConfig | null): DesiredEdgeInterface | null {
  if (!config) return null;
  return {
    listenPort: config.listenPort,
    peers: config.peers.map((peer) => ({
      gatewayId: peer.gatewayId,
      publicKey: peer.publicKey,
      allowedIps: [...peer.allowedIps].sort(),
    })),
  };
}

export function readEdgeLinkCommand(): Command {
  return { cmd: 'ip', args: ['-json', 'link', 'show', 'dev', EDGE_INTERFACE] };
}

/** The interface from `ip -json link show dev sag-edge0` (failed read: absent) and `wg show … dump`. */
export function parseEdgeInterface(
  link: { code: number; stdout: string },
  dump: string,
): InstalledTunnel | null {
  if (link.code !== 0 || link.stdout.trim() === '') return null;
  const [first] = JSON.parse(link.stdout) as { flags?: string[] }[];
  if (!first) return null;
  return parseWgDump(EDGE_INTERFACE, first.flags?.includes('UP') ?? false, dump);
}

function createCommand(implementation: WireguardOptions['implementation']): Command {
  const kernel: Command = { cmd: 'ip', args: ['link', 'add', 'dev', EDGE_INTERFACE, 'type', 'wireguard'] };
  const userspace: Command = { cmd: 'wireguard-go', args: [EDGE_INTERFACE] };
  if (implementation === 'kernel') return kernel;
  if (implementation === 'userspace') return userspace;
  return { ...kernel, fallback: userspace };
}

function keyCommand(listenPort: number, key: TunnelKeyRef): Command {
  return {
    cmd: 'wg',
    args: ['set', EDGE_INTERFACE, 'private-key', key.privateKeyFile, 'listen-port', String(listenPort)],
  };
}

function peerCommand(peer: DesiredEdgePeer): Command {
  return {
    cmd: 'wg',
    args: ['set', EDGE_INTERFACE, 'peer', peer.publicKey, 'allowed-ips', peer.allowedIps.join(',')],
  };
}

const upCommand: Command = { cmd: 'ip', args: ['link', 'set', 'dev', EDGE_INTERFACE, 'up'] };

function planPeers(desired: DesiredEdgeInterface, installed: InstalledTunnel): Change[] {
  const changes: Change[] = [];
  const wanted = new Set(desired.peers.map((peer) => peer.publicKey));
  for (const peer of installed.peers)
    if (!wanted.has(peer.publicKey))
      changes.push({
        reason: `${EDGE_INTERFACE} has a peer ${peer.publicKey} that is no configured gateway`,
        commands: [{ cmd: 'wg', args: ['set', EDGE_INTERFACE, 'peer', peer.publicKey, 'remove'] }],
      });
  for (const peer of desired.peers) {
    const current = installed.peers.find((p) => p.publicKey === peer.publicKey);
    const label = `${EDGE_INTERFACE} peer ${peer.publicKey} (gateway ${peer.gatewayId})`;
    const have = current ? [...current.allowedIps].sort().join(',') : null;
    if (have === peer.allowedIps.join(',')) continue;
    changes.push({
      reason:
        have === null
          ? `${label} is missing`
          : `${label} allows ${have || 'nothing'}, want ${peer.allowedIps.join(',') || 'nothing'}`,
      commands: [peerCommand(peer)],
    });
  }
  return changes;
}

/** Creates, corrects or deletes sag-edge0; the same config against the same state plans nothing. */
export function planEdgeInterface(
  desired: DesiredEdgeInterface | null,
  installed: InstalledTunnel | null,
  key: TunnelKeyRef,
  implementation: WireguardOptions['implementation'] = 'auto',
): Change[] {
  if (!desired)
    return installed
      ? [
          {
            reason: `${EDGE_INTERFACE} is installed but not configured`,
            commands: [{ cmd: 'ip', args: ['link', 'del', 'dev', EDGE_INTERFACE] }],
          },
        ]
      : [];
  if (!installed)
    return [
      {
        reason: `${EDGE_INTERFACE} is missing`,
        commands: [
          createCommand(implementation),
          keyCommand(desired.listenPort, key),
          ...desired.peers.map(peerCommand),
          upCommand,
        ],
      },
    ];
  const changes: Change[] = [];
  if (installed.publicKey !== key.publicKey || installed.listenPort !== desired.listenPort)
    changes.push({
      reason: `${EDGE_INTERFACE} has key ${installed.publicKey ?? 'unset'} port ${installed.listenPort ?? 'unset'}, want ${key.publicKey} port ${desired.listenPort}`,
      commands: [keyCommand(desired.listenPort, key)],
    });
  changes.push(...planPeers(desired, installed));
  if (!installed.up) changes.push({ reason: `${EDGE_INTERFACE} is down`, commands: [upCommand] });
  return changes;
}
