import { evaluateAcl, ipInCidr, type Packet } from '@opensag/proto';
import { isLocked } from '../domain/lifecycle.js';
import { evaluateSecurityGroups } from '../domain/securityGroupMatch.js';
import type { Gateway, Instance, Topology } from '../domain/types.js';
import type { AccessHop, DeviceView } from './types.js';

/**
 * The hops of an access test that judge one end of the path: a gateway's lifecycle and device, the
 * branch address, the gateway ACL, an instance's security groups. Each returns one hop whose
 * reason names the resource and, where a rule decided, the rule.
 */

export type DeviceLookup = (gatewayId: string) => DeviceView | undefined;

/** What travels: protocol, port, and both addresses. */
export interface Traffic {
  protocol: 'tcp' | 'udp' | 'icmp';
  port?: number;
  sourceIp: string;
  destIp: string;
}

export function describeService(traffic: Pick<Traffic, 'protocol' | 'port'>): string {
  return traffic.protocol === 'icmp' || traffic.port === undefined
    ? traffic.protocol
    : `${traffic.protocol}/${traffic.port}`;
}

export function describeGateway(gateway: Gateway): string {
  return `gateway ${gateway.id} (${gateway.name})`;
}

function pass(kind: AccessHop['kind'], resourceId: string, reason: string): AccessHop {
  return { kind, resourceId, verdict: 'pass', reason };
}

function block(kind: AccessHop['kind'], resourceId: string, reason: string): AccessHop {
  return { kind, resourceId, verdict: 'block', reason };
}

/** Only an active, unexpired gateway gets config; a locked one keeps stale state (SPEC §3). */
export function gatewayStateHop(gateway: Gateway, now: Date): AccessHop {
  const who = describeGateway(gateway);
  if (gateway.lifecycle !== 'active') {
    const next = gateway.lifecycle === 'ordered' ? 'bind a device and activate it' : 'activate it';
    return block('gateway', gateway.id, `${who} is not active (lifecycle ${gateway.lifecycle}); ${next}`);
  }
  if (isLocked(gateway, now)) {
    return block(
      'gateway',
      gateway.id,
      `${who} expired at ${gateway.expiresAt} and is locked: it gets no config until renewed`,
    );
  }
  const until = gateway.expiresAt ? ` until ${gateway.expiresAt}` : '';
  return pass('gateway', gateway.id, `${who} is active${until}`);
}

export function deviceHop(gateway: Gateway, devices: DeviceLookup): AccessHop {
  const who = describeGateway(gateway);
  if (gateway.serialNumber === null) return block('device', gateway.id, `${who} has no device bound`);
  const device = `device ${gateway.serialNumber} of ${who}`;
  const view = devices(gateway.id);
  if (!view) return block('device', gateway.id, `${device} has never connected to the broker`);
  if (view.presence === 'offline') return block('device', gateway.id, `${device} is offline`);
  if (view.sync === 'pending') {
    return block('device', gateway.id, `${device} has not applied its latest config yet (sync pending)`);
  }
  if (view.sync === 'failed') {
    return block('device', gateway.id, `${device} failed to apply its latest config (sync failed)`);
  }
  return pass('device', gateway.id, `${device} is online and in sync`);
}

export function branchAddressHop(gateway: Gateway, ip: string): AccessHop {
  const block_ = gateway.privateCidrs.find((cidr) => ipInCidr(ip, cidr));
  if (block_)
    return pass('branch-address', gateway.id, `${ip} is inside ${block_} of ${describeGateway(gateway)}`);
  const blocks = gateway.privateCidrs.length ? gateway.privateCidrs.join(', ') : 'none configured';
  return block(
    'branch-address',
    gateway.id,
    `${ip} is not inside any private CIDR block of ${describeGateway(gateway)} (${blocks})`,
  );
}

/** The gateway ACL on `out` (branch LAN → overlay) or `in` (overlay → branch LAN). */
export function aclHop(
  topology: Topology,
  gateway: Gateway,
  direction: 'in' | 'out',
  traffic: Traffic,
): AccessHop {
  const kind = direction === 'out' ? 'acl-out' : 'acl-in';
  const service = describeService(traffic);
  const flow =
    direction === 'out' ? `${service} out to ${traffic.destIp}` : `${service} in from ${traffic.sourceIp}`;
  const acl = gateway.aclId ? topology.acls.get(gateway.aclId) : undefined;
  if (!acl) return pass(kind, gateway.id, `${describeGateway(gateway)} has no ACL: ${flow} is accepted`);
  const packet: Packet = {
    direction,
    protocol: traffic.protocol,
    sourceIp: traffic.sourceIp,
    destIp: traffic.destIp,
    destPort: traffic.port,
  };
  const verdict = evaluateAcl(acl.rules, packet);
  const name = `ACL ${acl.id} (${acl.name})`;
  if (!verdict.rule) return pass(kind, acl.id, `${name} has no rule matching ${flow} (default accept)`);
  const rule = `rule ${verdict.rule.id}${verdict.rule.name ? ` (${verdict.rule.name})` : ''}`;
  const verb = verdict.policy === 'accept' ? 'accepts' : 'drops';
  const hop = verdict.policy === 'accept' ? pass : block;
  return hop(kind, acl.id, `${name} ${rule} ${verb} ${flow}`);
}

export function securityGroupHop(
  topology: Topology,
  instance: Instance,
  direction: 'ingress' | 'egress',
  traffic: Traffic,
): AccessHop {
  const verdict = evaluateSecurityGroups(topology, instance, {
    direction,
    protocol: traffic.protocol,
    peerIp: direction === 'ingress' ? traffic.sourceIp : traffic.destIp,
    port: traffic.port,
  });
  const kind = direction === 'ingress' ? 'security-group-ingress' : 'security-group-egress';
  const resourceId = verdict.rule?.securityGroupId ?? instance.securityGroupIds[0] ?? instance.id;
  return (verdict.policy === 'accept' ? pass : block)(kind, resourceId, verdict.reason);
}

export { block, pass };
