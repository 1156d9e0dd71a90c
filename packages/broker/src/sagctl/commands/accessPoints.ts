import type { Static } from '@sinclair/typebox';
import type { AccessPointConfigView, AccessPointView } from '../../api/schemas/accessPoints.js';
import type { Page } from '../client.js';
import { type CommandSpec, type GroupSpec, pathOf, show } from '../command.js';
import { joined, keyValues, section, table } from '../table.js';

/** Access points: where gateways' tunnels end, and the edge agents that run them. */

const ID = ['ACCESS_POINT_ID'];

function pointView(p: AccessPointView): string {
  const pairs = keyValues([
    ['id', p.id],
    ['address', p.address],
    ['role', p.role],
    ['edge agent', p.serialNumber ?? '(none: probes only)'],
    ['tunnel key', p.tunnelPublicKey],
    ['presence', p.presence],
    ['last seen', p.lastSeenAt],
    ['revision', `desired ${p.desiredRevision ?? '-'}, applied ${p.appliedRevision ?? '-'}`],
    ['sync', p.syncError ? `${p.sync}: ${p.syncError}` : p.sync],
    ['peers', p.peers],
  ]);
  const omitted = table(
    ['gateway', 'left out because'],
    p.omittedPeers.map((o) => [o.gatewayId, o.reason]),
  );
  return pairs + (p.omittedPeers.length > 0 ? section('GATEWAYS LEFT OUT', omitted) : '');
}

function configView(view: Static<typeof AccessPointConfigView>): string {
  const edge = view.config.edge;
  const pairs = keyValues([
    ['access point', view.gatewayId],
    ['revision', view.revision],
    ['hash', view.hash],
    ['compiled', view.compiledAt],
    ['edge agent', view.config.serialNumber],
    ['wireguard port', edge.listenPort],
  ]);
  const peers = table(
    ['gateway', 'tunnel key', 'allowed ips'],
    edge.peers.map((p) => [p.gatewayId, p.publicKey, joined(p.allowedIps)]),
  );
  const vpcs = table(
    ['vpc', 'cidr blocks'],
    edge.vpcs.map((v) => [v.vpcId, joined(v.cidrBlocks)]),
  );
  const instances = table(
    ['instance', 'private ip', 'security groups'],
    edge.instances.map((i) => [i.instanceId, i.privateIp, joined(i.securityGroupIds)]),
  );
  const rules = table(
    ['group', 'rule', 'direction', 'policy', 'priority', 'protocol', 'ports', 'cidr'],
    edge.securityGroups.flatMap((g) =>
      g.rules.map((r) => [g.id, r.id, r.direction, r.policy, r.priority, r.protocol, r.portRange, r.cidr]),
    ),
  );
  return (
    pairs +
    section('PEERS', edge.peers.length > 0 ? peers : '') +
    section('VPCS', edge.vpcs.length > 0 ? vpcs : '') +
    section('INSTANCES', edge.instances.length > 0 ? instances : '') +
    section('SECURITY GROUP RULES', edge.securityGroups.some((g) => g.rules.length > 0) ? rules : '')
  );
}

const list: CommandSpec = {
  name: 'list',
  summary: 'list access points in tunnel order (active, standby, spare) and their edge agents',
  examples: ['sagctl access-point list'],
  async run(ctx) {
    const page = await ctx.api.get<Page<AccessPointView>>('/access-points');
    show(ctx, page, (p) =>
      table(
        ['id', 'address', 'role', 'edge agent', 'presence', 'sync', 'peers'],
        p.items.map((a) => [a.id, a.address, a.role, a.serialNumber, a.presence, a.sync, a.peers]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one access point, its edge agent and the gateways it leaves out',
  args: ID,
  examples: ['sagctl access-point get ap-edge-a'],
  async run(ctx) {
    show(ctx, await ctx.api.get<AccessPointView>(pathOf('access-points', ctx.args[0])), pointView);
  },
};

const config: CommandSpec = {
  name: 'config',
  summary: "the edge agent's compiled config: peers, VPCs, instances, security-group rules",
  args: ID,
  examples: ['sagctl access-point config ap-edge-a'],
  async run(ctx) {
    const path = `${pathOf('access-points', ctx.args[0])}/config`;
    show(ctx, await ctx.api.get<Static<typeof AccessPointConfigView>>(path), configView);
  },
};

export const accessPointGroup: GroupSpec = {
  name: 'access-point',
  summary: 'access points: where tunnels end, set in the broker config file; read-only',
  commands: [list, get, config],
};
