import type { DesiredConfig, EdgeSettingsMessage, LanPort, WanPort } from '@opensag/proto';
import type {
  AclRule,
  DeviceConfig,
  EdgeSettings,
  LanPortConfig,
  TunnelConfig,
  WanPortConfig,
} from '../config.js';

/**
 * Turns a decoded `DesiredConfig` into the agent's `DeviceConfig`. Protobuf cannot tell "absent"
 * from "empty", so the wire's defaults ('' and 0, empty lists) become the absent optional fields of
 * the broker's GatewayConfig again, and '' ids become null. Pure; validation happens in the applier.
 */
export function deviceConfigFromDesired(message: DesiredConfig): DeviceConfig {
  return {
    revision: message.revision,
    hash: message.hash,
    gatewayId: message.gatewayId,
    serialNumber: message.serialNumber === '' ? null : message.serialNumber,
    ports: { wan: message.ports.wan.map(wanPort), lan: message.ports.lan.map(lanPort) },
    privateCidrs: [...message.privateCidrs],
    tunnels: message.tunnels.map(
      (t): TunnelConfig => ({
        accessPoint: t.accessPoint,
        address: t.address,
        ...(t.publicKey !== '' ? { publicKey: t.publicKey } : {}),
        role: t.role,
      }),
    ),
    keepalive: {
      intervalMs: message.keepalive.intervalMs,
      multiplier: message.keepalive.multiplier,
      lossWindow: message.keepalive.lossWindow,
      holdDownMs: message.keepalive.holdDownMs,
    },
    routes: message.routes.map((r) => ({
      destination: r.destination,
      nextHop: r.nextHop,
      sourceResourceId: r.sourceResourceId,
      sourceKind: r.sourceKind,
    })),
    aclRules: message.aclRules.map(
      (r): AclRule => ({
        id: r.id,
        ...(r.name !== '' ? { name: r.name } : {}),
        direction: r.direction,
        policy: r.policy,
        priority: r.priority,
        protocol: r.protocol,
        sourceCidr: r.sourceCidr,
        sourcePortRange: r.sourcePortRange,
        destCidr: r.destCidr,
        destPortRange: r.destPortRange,
      }),
    ),
    aclId: message.aclId === '' ? null : message.aclId,
    ...(message.edge ? { edge: edgeSettings(message.edge) } : {}),
  };
}

/** An access point's section, copied into plain lists (a gateway's config has none). */
function edgeSettings(edge: EdgeSettingsMessage): EdgeSettings {
  return {
    listenPort: edge.listenPort,
    peers: edge.peers.map((p) => ({
      gatewayId: p.gatewayId,
      publicKey: p.publicKey,
      allowedIps: [...p.allowedIps],
      ...(p.routeSet !== '' ? { routeSet: p.routeSet } : {}),
    })),
    routeSets: edge.routeSets.map((set) => ({ id: set.id, destinations: [...set.destinations] })),
    vpcs: edge.vpcs.map((v) => ({ vpcId: v.vpcId, cidrBlocks: [...v.cidrBlocks] })),
    instances: edge.instances.map((i) => ({
      instanceId: i.instanceId,
      privateIp: i.privateIp,
      securityGroupIds: [...i.securityGroupIds],
    })),
    securityGroups: edge.securityGroups.map((g) => ({
      id: g.id,
      rules: g.rules.map((r) => ({
        id: r.id,
        direction: r.direction,
        policy: r.policy,
        priority: r.priority,
        protocol: r.protocol,
        portRange: r.portRange,
        cidr: r.cidr,
      })),
    })),
  };
}

function wanPort(port: WanPort): WanPortConfig {
  return {
    name: port.name,
    mode: port.mode,
    ...(port.address !== '' ? { address: port.address } : {}),
    ...(port.gateway !== '' ? { gateway: port.gateway } : {}),
    ...(port.dns.length > 0 ? { dns: [...port.dns] } : {}),
    ...(port.priority !== 0 ? { priority: port.priority } : {}),
    ...(port.username !== '' ? { username: port.username } : {}),
    ...(port.password !== '' ? { password: port.password } : {}),
  };
}

function lanPort(port: LanPort): LanPortConfig {
  return {
    name: port.name,
    address: port.address,
    ...(port.dhcp
      ? { dhcp: { start: port.dhcp.start, end: port.dhcp.end, leaseMinutes: port.dhcp.leaseMinutes } }
      : {}),
  };
}
