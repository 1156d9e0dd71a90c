import type { Gateway, GatewayConfigView, GatewayStatus } from '../../api/schemas/gateways.js';
import { joined, keyValues, section, table } from '../table.js';

/** How gateways read in a terminal: list rows, one gateway, its status and its compiled config. */

export const GATEWAY_COLUMNS = [
  'id',
  'name',
  'area',
  'spec',
  'mbps',
  'lifecycle',
  'presence',
  'private cidrs',
  'ccn',
  'expires',
];

export function gatewayRows(gateways: Gateway[]): string {
  return table(
    GATEWAY_COLUMNS,
    gateways.map((g) => [
      g.id,
      g.name,
      g.area,
      g.spec,
      g.bandwidthMbps,
      g.locked ? `${g.lifecycle} (locked)` : g.lifecycle,
      g.presence,
      joined(g.privateCidrs),
      g.ccnId,
      g.expiresAt,
    ]),
  );
}

export function gatewayView(g: Gateway): string {
  return (
    keyValues([
      ['id', g.id],
      ['name', g.name],
      ['description', g.description],
      ['area', g.area],
      ['spec', g.spec],
      ['bandwidth', `${g.bandwidthMbps} Mbps`],
      ['subscription', `${g.subscriptionMonths} month${g.subscriptionMonths === 1 ? '' : 's'}`],
      ['lifecycle', g.lifecycle],
      ['locked', g.locked],
      ['presence', g.presence],
      ['serial number', g.serialNumber],
      ['private cidrs', joined(g.privateCidrs)],
      ['ccn', g.ccnId],
      ['acl', g.aclId],
      ['created', g.createdAt],
      ['activated', g.activatedAt],
      ['expires', g.expiresAt],
    ]) + portsView(g.ports)
  );
}

function portsView(ports: Gateway['ports']): string {
  if (ports.wan.length === 0 && ports.lan.length === 0) return '';
  const wan = table(
    ['wan', 'mode', 'address', 'gateway', 'priority'],
    ports.wan.map((p) => [p.name, p.mode, p.address, p.gateway, p.priority]),
  );
  const lan = table(
    ['lan', 'address', 'dhcp pool', 'lease min'],
    ports.lan.map((p) => [
      p.name,
      p.address,
      p.dhcp && `${p.dhcp.start}-${p.dhcp.end}`,
      p.dhcp?.leaseMinutes,
    ]),
  );
  return section('PORTS', wan + (ports.lan.length > 0 ? `\n${lan}` : ''));
}

export function statusView(s: GatewayStatus): string {
  const presence = s.lastSeenAt ? `${s.presence} (last seen ${s.lastSeenAt})` : s.presence;
  const pairs = keyValues([
    ['gateway', s.gatewayId],
    ['lifecycle', s.lifecycle],
    ['locked', s.locked],
    ['presence', presence],
    ['sync', s.syncError ? `${s.sync}: ${s.syncError}` : s.sync],
    ['desired revision', s.desiredRevision],
    ['applied revision', s.appliedRevision],
  ]);
  const tunnels = table(
    ['access point', 'role', 'state', 'rtt ms', 'loss %', 'jitter ms'],
    s.tunnels.map((t) => [
      t.accessPoint,
      t.role,
      t.state,
      rounded(t.rttMs),
      rounded(t.lossPct),
      rounded(t.jitterMs),
    ]),
  );
  return (
    pairs +
    section('TUNNELS', s.tunnels.length > 0 ? tunnels : '') +
    section('PORTS (as the device reported them)', s.ports.length > 0 ? reportedPorts(s.ports) : '')
  );
}

/** Figures from the device, to two decimals: enough for RTT, loss and jitter. */
export function rounded(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : Math.round(value * 100) / 100;
}

const REPORTED_PORT_FIELDS = ['name', 'kind', 'state', 'mode', 'address', 'error'];

/** Ports are whatever the agent reported (no schema of their own): the usual fields as columns. */
function reportedPorts(ports: unknown[]): string {
  return table(
    REPORTED_PORT_FIELDS,
    ports.map((port) => {
      const fields = (typeof port === 'object' && port !== null ? port : {}) as Record<string, unknown>;
      return REPORTED_PORT_FIELDS.map((key) => {
        const value = fields[key];
        return typeof value === 'object' && value !== null ? JSON.stringify(value) : (value as string);
      });
    }),
  );
}

export function configView(view: GatewayConfigView): string {
  const c = view.config;
  const pairs = keyValues([
    ['gateway', view.gatewayId],
    ['revision', view.revision],
    ['hash', view.hash],
    ['compiled', view.compiledAt],
    ['serial number', c.serialNumber],
    ['private cidrs', joined(c.privateCidrs)],
    ['acl', c.aclId],
    [
      'keepalive',
      `every ${c.keepalive.intervalMs} ms, down after ${c.keepalive.multiplier} missed, ` +
        `hold-down ${c.keepalive.holdDownMs} ms`,
    ],
  ]);
  const tunnels = table(
    ['access point', 'address', 'role'],
    c.tunnels.map((t) => [t.accessPoint, t.address, t.role]),
  );
  const routes = table(
    ['destination', 'next hop', 'source'],
    c.routes.map((r) => [r.destination, r.nextHop, `${r.sourceKind} ${r.sourceResourceId}`]),
  );
  const rules = table(
    ['rule', 'direction', 'policy', 'priority', 'protocol', 'source', 'destination'],
    c.aclRules.map((r) => [
      r.name ? `${r.id} (${r.name})` : r.id,
      r.direction,
      r.policy,
      r.priority,
      r.protocol,
      `${r.sourceCidr} ${r.sourcePortRange}`,
      `${r.destCidr} ${r.destPortRange}`,
    ]),
  );
  return (
    pairs +
    section('TUNNELS', c.tunnels.length > 0 ? tunnels : '') +
    section('ROUTES', c.routes.length > 0 ? routes : '') +
    section('ACL RULES (in evaluation order)', c.aclRules.length > 0 ? rules : '')
  );
}
