import type { AgentStatus, EdgeStatus } from '../agentStatus.js';

/** Left-aligned columns separated by two spaces; '-' stands for an empty cell. */
export function table(headers: string[], rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

function section(title: string, headers: string[], rows: string[][], empty: string): string {
  return `${title}\n${rows.length > 0 ? table(headers, rows) : `  (${empty})`}`;
}

const num = (value: number | null | undefined, unit = '') =>
  value === null || value === undefined ? '' : `${Math.round(value * 10) / 10}${unit}`;

/** The readable form of `sag-agent status`. */
export function formatStatus(status: AgentStatus): string {
  const broker = status.broker;
  const header = table(
    ['DEVICE', 'STATE', 'REVISION', 'HASH', 'BROKER'],
    [
      [
        status.serialNumber,
        status.agentState,
        status.revision === null ? 'none' : String(status.revision),
        status.hash ?? '',
        `${broker.state} ${broker.url} since ${broker.since}${broker.lastError ? ` (${broker.lastError})` : ''}`,
      ],
    ],
  );
  const summary = `updated ${status.updatedAt}; ${status.dataplane} data plane, ${status.role} role`;
  const routesSection = section(
    'ROUTES',
    ['DESTINATION', 'KIND', 'INTERFACE', 'LEARNED FROM'],
    status.routes.map((r) => [r.destination, r.kind, r.interface ?? '', r.sourceResourceId ?? '']),
    'none',
  );
  if (status.edge)
    return [header, summary, '', ...edgeSections(status.edge), '', routesSection, ''].join('\n');
  const ports = status.ports.map((p) => [
    p.name,
    p.kind,
    p.status,
    p.mode ?? '',
    p.address ?? '',
    p.dhcpPool ?? '',
  ]);
  const acl = status.aclRules.map((r) => [
    String(r.priority),
    r.name ? `${r.id} (${r.name})` : r.id,
    r.direction,
    r.policy,
    r.protocol,
    `${r.sourceCidr} ${r.sourcePortRange}`,
    `${r.destCidr} ${r.destPortRange}`,
  ]);
  const tunnels = status.tunnels.map((t) => [
    t.accessPoint,
    t.address,
    t.role,
    t.status,
    t.carrying ? 'yes' : 'no',
    num(t.rttMs, ' ms'),
    num(t.lossPercent, '%'),
    num(t.jitterMs, ' ms'),
  ]);
  return [
    header,
    summary,
    '',
    section('PORTS', ['NAME', 'KIND', 'STATUS', 'MODE', 'ADDRESS', 'DHCP POOL'], ports, 'none'),
    '',
    routesSection,
    '',
    section(
      'ACL',
      ['PRIORITY', 'RULE', 'DIR', 'POLICY', 'PROTOCOL', 'SOURCE', 'DESTINATION'],
      acl,
      'no rules',
    ),
    '',
    section(
      'TUNNELS',
      ['ACCESS POINT', 'ADDRESS', 'ROLE', 'STATUS', 'CARRYING', 'RTT', 'LOSS', 'JITTER'],
      tunnels,
      'none',
    ),
    '',
  ].join('\n');
}

/** An access point: its probe responder, then the gateways, VPCs and instances it serves. */
function edgeSections(edge: EdgeStatus): string[] {
  const applied = edge.applied;
  const cut = edge.listen.lastIndexOf(':');
  const wireguard = `${edge.listen.slice(0, cut)}:${Number(edge.listen.slice(cut + 1)) + 1}`;
  const listening = `probes answered on ${edge.listen} (${edge.probesAnswered} so far); WireGuard on ${wireguard}`;
  if (!applied) return [listening, '', '(no edge config applied yet)'];
  const peers = applied.peers.map((p) => [p.gatewayId, p.publicKey, p.allowedIps.join(', ')]);
  const vpcs = [
    ...applied.vpcs.map((v) => [v.vpcId, v.cidrBlocks.join(', '), v.interface]),
    ...applied.unreachedVpcs.map((v) => [v.vpcId, v.cidrBlocks.join(', '), 'not reached: left out']),
  ];
  const groups = new Map(applied.securityGroups.map((g) => [g.id, g.rules]));
  const instances = applied.instances.map((i) => [
    i.instanceId,
    i.privateIp,
    i.securityGroupIds.map((id) => `${id} (${groups.get(id) ?? 0} rules)`).join(', '),
  ]);
  return [
    listening,
    '',
    section('PEERS', ['GATEWAY', 'PUBLIC KEY', 'ALLOWED IPS'], peers, 'no gateways'),
    '',
    section('VPCS', ['VPC', 'BLOCKS', 'INTERFACE'], vpcs, 'none'),
    '',
    section('INSTANCES', ['INSTANCE', 'PRIVATE IP', 'SECURITY GROUPS'], instances, 'none'),
  ];
}
