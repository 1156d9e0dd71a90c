import { evaluateAcl } from '@opensag/proto';
import type { AclRule } from '../../config.js';
import { formatIpv4, parseCidr, parseIpv4 } from '../../ipv4.js';
import {
  describeTraffic,
  type PathProbe,
  type PathProbeResult,
  type PortState,
  type TunnelState,
} from '../dataplane.js';
import type { RoutingTable } from './routingTable.js';

/** The parts of the emulated model a probe looks at. */
export interface ProbeView {
  ports: PortState[];
  table: RoutingTable;
  aclRules: AclRule[];
  tunnels: TunnelState[];
}

function ruleLabel(rule: AclRule): string {
  return rule.name ? `${rule.id} (${rule.name})` : rule.id;
}

/**
 * Where a probe comes from when the request names no source: the first LAN address, else the
 * first host of the branch's first private block — a branch client's address either way, so
 * source-scoped ACL rules decide the probe as they would the client's traffic.
 */
function defaultSource(view: ProbeView): string {
  const lan = view.ports.find((port) => port.kind === 'lan' && port.address);
  if (lan?.address) return lan.address.split('/')[0];
  const privateRoute = view.table.routes().find((route) => route.kind === 'private');
  const block = privateRoute ? parseCidr(privateRoute.destination) : null;
  return block ? formatIpv4(block.network + 1) : '0.0.0.0';
}

/**
 * Answers a probe from the model, as the real box would decide it: the outbound ACL first, then
 * the route, then the tunnel the route leads into.
 */
export function answerProbe(view: ProbeView, request: PathProbe): PathProbeResult {
  const traffic = describeTraffic(request);
  if (parseIpv4(request.destination) === null) {
    return { reachable: false, reason: `destination "${request.destination}" is not an IPv4 address` };
  }
  const source = request.source ?? defaultSource(view);
  const verdict = evaluateAcl(view.aclRules, {
    direction: 'out',
    protocol: request.protocol,
    sourceIp: source,
    destIp: request.destination,
    destPort: request.port,
  });
  if (verdict.policy === 'drop') {
    const rule = verdict.rule ? `ACL rule ${ruleLabel(verdict.rule)}` : 'the ACL';
    return { reachable: false, reason: `${rule} drops ${traffic}` };
  }
  const route = view.table.lookup(request.destination);
  if (!route) return { reachable: false, reason: `no route to ${request.destination}` };
  if (route.kind === 'connected') {
    const lan = view.ports.find((port) => port.name === route.interface);
    if (lan?.status === 'down')
      return { reachable: false, reason: `LAN port ${lan.name} for ${route.destination} is down` };
    return {
      reachable: true,
      rttMs: 0,
      reason: `${traffic} stays on LAN port ${route.interface} (${route.destination})`,
    };
  }
  if (route.kind === 'private') {
    return {
      reachable: true,
      rttMs: 0,
      reason: `${request.destination} is in the branch block ${route.destination}`,
    };
  }
  return throughTunnel(view, traffic, route.destination, route.sourceResourceId);
}

function throughTunnel(
  view: ProbeView,
  traffic: string,
  destination: string,
  learnedFrom: string | undefined,
): PathProbeResult {
  const wans = view.ports.filter((port) => port.kind === 'wan');
  if (wans.length > 0 && wans.every((port) => port.status === 'down')) {
    return { reachable: false, reason: `every WAN port is down (${wans.map((p) => p.name).join(', ')})` };
  }
  const carrier = view.tunnels.find((tunnel) => tunnel.carrying);
  if (!carrier || carrier.status === 'down') {
    const states = view.tunnels.map((t) => `${t.role} ${t.accessPoint} ${t.status}`).join(', ');
    return { reachable: false, reason: `no tunnel is up for ${traffic} (${states})` };
  }
  const via = `via tunnel ${carrier.accessPoint} (${carrier.role})`;
  const route = `route ${destination}${learnedFrom ? ` from ${learnedFrom}` : ''}`;
  return {
    reachable: true,
    ...(carrier.rttMs !== undefined ? { rttMs: carrier.rttMs } : {}),
    reason: `${traffic} goes ${via}, ${route}`,
  };
}
