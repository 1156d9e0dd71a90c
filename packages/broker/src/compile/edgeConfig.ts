import type { EdgePeerConfig, EdgeRouteSetConfig, EdgeSettings } from '@opensag/proto';
import { type Block, blocksOverlap, parseBlock } from '../domain/cidr.js';
import type { Gateway, Topology } from '../domain/types.js';
import { MAX_TUNNELS } from './gatewayConfig.js';
import { sortedByDestination } from './routes.js';
import type { AccessPoint, CompileSettings, GatewayConfig, RouteEntry } from './types.js';

/** A gateway left off an access point's peers, and why, in words an operator can act on. */
export interface PeerOmission {
  gatewayId: string;
  reason: string;
}

export interface CompiledEdge {
  config: GatewayConfig;
  omitted: PeerOmission[];
}

/** What the compiler learns about each gateway from elsewhere. */
export interface PeerFacts {
  /** The WireGuard public key its device reported; undefined before it has. */
  tunnelKeyOf(gatewayId: string): string | undefined;
  /** The routes of its compiled config (what its tunnel may carry). */
  routesOf(gatewayId: string): readonly RouteEntry[];
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The WireGuard port of an access point: its probe port + 1 (the probe owns the port itself). */
export function wireguardPortOf(accessPoint: AccessPoint): number {
  return Number(accessPoint.address.slice(accessPoint.address.lastIndexOf(':') + 1)) + 1;
}

/** A block of a gateway, where it starts and ends. */
interface Claim {
  block: Block;
  gatewayId: string;
}

/**
 * For each gateway, the other gateways' blocks that overlap one of its own, found by one sweep
 * over the blocks sorted by start (overlaps are rare, so the open set stays small).
 */
function overlapsOf(claims: Claim[]): Map<string, Claim[]> {
  const sorted = [...claims].sort((a, b) => a.block.first - b.block.first);
  const overlaps = new Map<string, Claim[]>();
  const note = (gatewayId: string, other: Claim) => {
    const list = overlaps.get(gatewayId);
    if (list) list.push(other);
    else overlaps.set(gatewayId, [other]);
  };
  let open: Claim[] = [];
  for (const claim of sorted) {
    open = open.filter((o) => o.block.last >= claim.block.first);
    for (const other of open) {
      if (other.gatewayId === claim.gatewayId || !blocksOverlap(other.block, claim.block)) continue;
      note(claim.gatewayId, other);
      note(other.gatewayId, claim);
    }
    open.push(claim);
  }
  return overlaps;
}

/**
 * One peer per active gateway whose device reported a tunnel key. WireGuard gives a block to one
 * peer only, so a gateway whose blocks overlap an earlier one's (by id) or whose key repeats one
 * is left out and named, rather than letting it steal the other branch's replies.
 */
function peersOf(
  topology: Topology,
  facts: PeerFacts,
): { peers: EdgePeerConfig[]; omitted: PeerOmission[]; routeSets: EdgeRouteSetConfig[] } {
  const peers: EdgePeerConfig[] = [];
  const routeSets = routeSetsOf();
  const omitted: PeerOmission[] = [];
  const candidates: { gateway: Gateway; publicKey: string }[] = [];
  for (const gateway of [...topology.gateways.values()].sort(byId)) {
    if (gateway.lifecycle !== 'active' || !gateway.serialNumber || gateway.privateCidrs.length === 0)
      continue;
    const publicKey = facts.tunnelKeyOf(gateway.id);
    if (publicKey) candidates.push({ gateway, publicKey });
    else omitted.push({ gatewayId: gateway.id, reason: 'its device has not reported a tunnel key yet' });
  }
  const overlaps = overlapsOf(
    candidates.flatMap(({ gateway }) =>
      gateway.privateCidrs.map((text) => ({
        block: parseBlock(text, 'privateCidrs'),
        gatewayId: gateway.id,
      })),
    ),
  );
  const accepted = new Set<string>();
  const keys = new Map<string, string>();
  for (const { gateway, publicKey } of candidates) {
    const sameKey = keys.get(publicKey);
    if (sameKey) {
      omitted.push({ gatewayId: gateway.id, reason: `its tunnel key is also the key of gateway ${sameKey}` });
      continue;
    }
    const clash = (overlaps.get(gateway.id) ?? [])
      .filter((other) => accepted.has(other.gatewayId))
      .sort((a, b) => byId({ id: a.gatewayId }, { id: b.gatewayId }))[0];
    if (clash) {
      omitted.push({
        gatewayId: gateway.id,
        reason: `its private block overlaps ${clash.block.text} of gateway ${clash.gatewayId} on the same access point`,
      });
      continue;
    }
    keys.set(publicKey, gateway.id);
    accepted.add(gateway.id);
    peers.push({
      gatewayId: gateway.id,
      publicKey,
      allowedIps: [...gateway.privateCidrs],
      // All the edge lets in from its tunnel: where the gateway's own routes go.
      routeSet: routeSets.idOf([
        ...facts.routesOf(gateway.id).map((route) => route.destination),
        ...gateway.privateCidrs,
      ]),
    });
  }
  omitted.sort((a, b) => byId({ id: a.gatewayId }, { id: b.gatewayId }));
  return { peers, omitted, routeSets: routeSets.list };
}

/** Route sets: gateways that reach the same destinations share one entry; a peer costs an id. */
function routeSetsOf() {
  const byKey = new Map<string, EdgeRouteSetConfig>();
  return {
    list: [] as EdgeRouteSetConfig[],
    /**
     * The gateway's routes together with its own blocks (which only lead back to it), so that all
     * members of one CEN, who learn each other's blocks, share a single set.
     */
    idOf(reachable: readonly string[]): string {
      const destinations = sortedByDestination([...new Set(reachable)], (destination) => destination);
      const key = destinations.join(' ');
      let set = byKey.get(key);
      if (!set) {
        set = { id: `routes-${byKey.size + 1}`, destinations };
        byKey.set(key, set);
        this.list.push(set);
      }
      return set.id;
    },
  };
}

function settingsOf(
  topology: Topology,
  accessPoint: AccessPoint,
  peers: EdgePeerConfig[],
  routeSets: EdgeRouteSetConfig[],
): EdgeSettings {
  return {
    listenPort: wireguardPortOf(accessPoint),
    peers,
    routeSets,
    vpcs: [...topology.vpcs.values()]
      .sort(byId)
      .map((vpc) => ({ vpcId: vpc.id, cidrBlocks: [...vpc.cidrBlocks] })),
    instances: [...topology.instances.values()].sort(byId).map((instance) => ({
      instanceId: instance.id,
      privateIp: instance.privateIp,
      securityGroupIds: [...instance.securityGroupIds],
    })),
    securityGroups: [...topology.securityGroups.values()].sort(byId).map((group) => ({
      id: group.id,
      // Insertion order; the edge orders them by priority itself (drop first at equal priority).
      rules: group.rules.map((rule) => ({
        id: rule.id,
        direction: rule.direction,
        policy: rule.policy,
        priority: rule.priority,
        protocol: rule.protocol,
        portRange: rule.portRange,
        cidr: rule.cidr,
      })),
    })),
  };
}

/**
 * The config of an access point run by an edge agent: the branch tunnels it terminates (every
 * active gateway, since each gateway's tunnels go to the first two access points) and the VPCs,
 * instances and security groups it guards. It travels in the gateway's DesiredConfig message, so
 * the gateway parts are empty. An access point past the first two carries no gateway's tunnel.
 */
export function compileEdgeConfig(
  topology: Topology,
  accessPoint: AccessPoint,
  settings: CompileSettings,
  facts: PeerFacts,
): CompiledEdge {
  const serves = settings.accessPoints.slice(0, MAX_TUNNELS).some((point) => point.id === accessPoint.id);
  const { peers, omitted, routeSets } = serves
    ? peersOf(topology, facts)
    : { peers: [], omitted: [], routeSets: [] };
  return {
    config: {
      gatewayId: accessPoint.id,
      serialNumber: accessPoint.serialNumber ?? null,
      ports: { wan: [], lan: [] },
      privateCidrs: [],
      tunnels: [],
      keepalive: { ...settings.keepalive },
      routes: [],
      aclRules: [],
      aclId: null,
      edge: settingsOf(topology, accessPoint, peers, routeSets),
    },
    omitted,
  };
}
