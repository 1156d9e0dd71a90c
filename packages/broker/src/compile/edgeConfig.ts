import type { EdgeRouteSetConfig, EdgeSettings } from '@opensag/proto';
import type { Topology } from '../domain/types.js';
import { type EdgePeerList, EdgePeers, type PeerFacts, type PeerOmission } from './edgePeers.js';
import { MAX_TUNNELS } from './gatewayConfig.js';
import type { AccessPoint, CompileSettings, GatewayConfig } from './types.js';

export { type EdgePeerList, EdgePeers, type PeerFacts, type PeerOmission } from './edgePeers.js';

export interface CompiledEdge {
  config: GatewayConfig;
  omitted: PeerOmission[];
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The WireGuard port of an access point: its probe port + 1 (the probe owns the port itself). */
export function wireguardPortOf(accessPoint: AccessPoint): number {
  return Number(accessPoint.address.slice(accessPoint.address.lastIndexOf(':') + 1)) + 1;
}

function settingsOf(topology: Topology, accessPoint: AccessPoint, list: EdgePeerList): EdgeSettings {
  return {
    listenPort: wireguardPortOf(accessPoint),
    // Frozen and shared by both access points; their canonical text is kept in pages (EdgeRevisions).
    peers: list.peers as EdgeSettings['peers'],
    routeSets: list.routeSets as EdgeRouteSetConfig[],
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

const NO_PEERS: EdgePeerList = Object.freeze({
  peers: Object.freeze([]),
  routeSets: Object.freeze([]),
  omitted: Object.freeze([]),
});

/**
 * The config of an access point run by an edge agent: the branch tunnels it terminates (every
 * active gateway, since each gateway's tunnels go to the first two access points) and the VPCs,
 * instances and security groups it guards. It travels in the gateway's DesiredConfig message, so
 * the gateway parts are empty. An access point past the first two carries no gateway's tunnel.
 * `peers` comes from an EdgePeers kept across compiles, so only what changed is rebuilt.
 */
export function edgeConfigWith(
  topology: Topology,
  accessPoint: AccessPoint,
  settings: CompileSettings,
  peers: EdgePeerList,
): CompiledEdge {
  const serves = settings.accessPoints.slice(0, MAX_TUNNELS).some((point) => point.id === accessPoint.id);
  const list = serves ? peers : NO_PEERS;
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
      edge: settingsOf(topology, accessPoint, list),
    },
    omitted: [...list.omitted],
  };
}

/** The same config compiled from scratch, with no state kept: what a broker restart computes. */
export function compileEdgeConfig(
  topology: Topology,
  accessPoint: AccessPoint,
  settings: CompileSettings,
  facts: PeerFacts,
): CompiledEdge {
  return edgeConfigWith(topology, accessPoint, settings, new EdgePeers().update(topology, facts));
}
