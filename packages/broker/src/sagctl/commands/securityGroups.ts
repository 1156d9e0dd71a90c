import type {
  SecurityGroup,
  SecurityGroupCreate,
  SecurityGroupRule,
  SecurityGroupRuleCreate,
} from '../../api/schemas/securityGroups.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { keyValues, section, table } from '../table.js';

/** Security groups: the cloud-side firewall of VPC instances (tutorial step 5). */

const ID = ['SG_ID'];

function rulesTable(rules: SecurityGroupRule[]): string {
  return table(
    ['rule', 'direction', 'policy', 'priority', 'protocol', 'ports', 'cidr', 'description'],
    rules.map((r) => [
      r.id,
      r.direction,
      r.policy,
      r.priority,
      r.protocol,
      r.portRange,
      r.cidr,
      r.description,
    ]),
  );
}

function groupView(g: SecurityGroup): string {
  return (
    keyValues([
      ['id', g.id],
      ['name', g.name],
      ['description', g.description],
      ['vpc', g.vpcId],
      ['created', g.createdAt],
    ]) + section('RULES', g.rules.length > 0 ? rulesTable(g.rules) : '')
  );
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create a security group in a VPC (ingress denied except from its own members)',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Shanghai servers"' },
    vpc: { type: 'string', value: 'VPC_ID', required: true, description: 'its VPC' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: ['sagctl security-group create --name "Shanghai servers" --vpc vpc-1a2b3c'],
  async run(ctx) {
    const body: SecurityGroupCreate = {
      name: ctx.flags.text('name'),
      vpcId: ctx.flags.text('vpc'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<SecurityGroup>('/security-groups', body), groupView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list security groups',
  flags: { vpc: { type: 'string', value: 'VPC_ID', description: 'only those of this VPC' }, ...LIST_FLAGS },
  examples: ['sagctl security-group list --vpc vpc-1a2b3c'],
  async run(ctx) {
    const page = await listAll<SecurityGroup>(ctx, '/security-groups', {
      vpcId: ctx.flags.optionalText('vpc'),
    });
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'vpc', 'rules'],
        p.items.map((g) => [g.id, g.name, g.vpcId, g.rules.length]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one security group with its rules',
  args: ID,
  examples: ['sagctl security-group get sg-9f8e7d'],
  async run(ctx) {
    show(ctx, await ctx.api.get<SecurityGroup>(pathOf('security-groups', ctx.args[0])), groupView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete a security group',
  args: ID,
  examples: ['sagctl security-group delete sg-9f8e7d'],
  async run(ctx) {
    await ctx.api.delete(pathOf('security-groups', ctx.args[0]));
    done(ctx, `deleted security group ${ctx.args[0]}`);
  },
};

const addRule: CommandSpec = {
  name: 'add-rule',
  summary: 'add a rule (step 5: authorize the branch CIDR)',
  args: ID,
  flags: {
    direction: { type: 'string', value: 'DIR', required: true, description: 'ingress or egress' },
    policy: { type: 'string', value: 'POLICY', required: true, description: 'accept or drop' },
    priority: {
      type: 'string',
      value: 'N',
      required: true,
      description: '1-100; lowest wins, drop wins ties',
    },
    protocol: { type: 'string', value: 'PROTO', required: true, description: 'tcp, udp, icmp or all' },
    ports: { type: 'string', value: 'A/B', description: 'port range; -1/-1 (the default) is any' },
    cidr: { type: 'string', value: 'CIDR', required: true, description: 'the peer block' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: [
    'sagctl security-group add-rule sg-9f8e7d --direction ingress --policy accept --priority 1 --protocol tcp --ports 22/22 --cidr 172.16.0.0/16',
  ],
  async run(ctx) {
    const body: SecurityGroupRuleCreate = {
      direction: ctx.flags.text('direction') as SecurityGroupRuleCreate['direction'],
      policy: ctx.flags.text('policy') as SecurityGroupRuleCreate['policy'],
      priority: ctx.flags.integer('priority'),
      protocol: ctx.flags.text('protocol') as SecurityGroupRuleCreate['protocol'],
      portRange: ctx.flags.optionalText('ports') ?? '-1/-1',
      cidr: ctx.flags.text('cidr'),
      description: ctx.flags.optionalText('description'),
    };
    const rule = await ctx.api.post<SecurityGroupRule>(pathOf('security-groups', ctx.args[0], 'rules'), body);
    show(ctx, rule, (r) => rulesTable([r]));
  },
};

const removeRule: CommandSpec = {
  name: 'remove-rule',
  summary: 'remove a rule',
  args: ['SG_ID', 'RULE_ID'],
  examples: ['sagctl security-group remove-rule sg-9f8e7d sgr-0a1b2c'],
  async run(ctx) {
    const [groupId, ruleId] = ctx.args;
    await ctx.api.delete(pathOf('security-groups', groupId, 'rules', ruleId));
    done(ctx, `removed rule ${ruleId} from security group ${groupId}`);
  },
};

export const securityGroupGroup: GroupSpec = {
  name: 'security-group',
  summary: 'security groups: the firewall of VPC instances',
  commands: [create, list, get, remove, addRule, removeRule],
};
