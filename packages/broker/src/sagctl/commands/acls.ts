import type { Acl, AclCreate, AclRule, AclRuleCreate, AclRulePatch } from '../../api/schemas/acls.js';
import type { FlagSpecs, Flags } from '../args.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { keyValues, section, table } from '../table.js';

/** Gateway ACLs: the device firewall between the branch LAN and the overlay. */

const ID = ['ACL_ID'];
const ANY_CIDR = '0.0.0.0/0';
const ANY_PORT = '-1/-1';

function rulesTable(rules: AclRule[]): string {
  return table(
    ['rule', 'name', 'direction', 'policy', 'priority', 'protocol', 'source', 'destination'],
    rules.map((r) => [
      r.id,
      r.name,
      r.direction,
      r.policy,
      r.priority,
      r.protocol,
      `${r.sourceCidr} ${r.sourcePortRange}`,
      `${r.destCidr} ${r.destPortRange}`,
    ]),
  );
}

function aclView(a: Acl): string {
  return (
    keyValues([
      ['id', a.id],
      ['name', a.name],
      ['description', a.description],
      ['created', a.createdAt],
    ]) + section('RULES', a.rules.length > 0 ? rulesTable(a.rules) : '')
  );
}

const RULE_FLAGS: FlagSpecs = {
  name: { type: 'string', value: 'NAME', description: 'a label for the rule' },
  direction: {
    type: 'string',
    value: 'DIR',
    description: 'in (overlay to branch LAN) or out (branch LAN to overlay)',
  },
  policy: { type: 'string', value: 'POLICY', description: 'accept or drop' },
  priority: { type: 'string', value: 'N', description: '1-100, lower first; equal: earlier rule first' },
  protocol: { type: 'string', value: 'PROTO', description: 'tcp, udp, icmp or all' },
  source: { type: 'string', value: 'CIDR', description: `source block [${ANY_CIDR}]` },
  'source-ports': { type: 'string', value: 'A/B', description: `source port range [${ANY_PORT}: any]` },
  dest: { type: 'string', value: 'CIDR', description: `destination block [${ANY_CIDR}]` },
  'dest-ports': { type: 'string', value: 'A/B', description: `destination port range [${ANY_PORT}: any]` },
};

const REQUIRED_RULE_FLAGS = ['direction', 'policy', 'priority', 'protocol'];

/** The rule fields given on the command line; absent ones stay absent (for update-rule). */
function ruleFields(flags: Flags): AclRulePatch {
  return {
    name: flags.optionalText('name'),
    direction: flags.optionalText('direction') as AclRulePatch['direction'],
    policy: flags.optionalText('policy') as AclRulePatch['policy'],
    priority: flags.optionalInteger('priority'),
    protocol: flags.optionalText('protocol') as AclRulePatch['protocol'],
    sourceCidr: flags.optionalText('source'),
    sourcePortRange: flags.optionalText('source-ports'),
    destCidr: flags.optionalText('dest'),
    destPortRange: flags.optionalText('dest-ports'),
  };
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create an ACL (apply it with sagctl gateway acl)',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Branch firewall"' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: ['sagctl acl create --name "Branch firewall"'],
  async run(ctx) {
    const body: AclCreate = {
      name: ctx.flags.text('name'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<Acl>('/acls', body), aclView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list ACLs',
  flags: LIST_FLAGS,
  examples: ['sagctl acl list'],
  async run(ctx) {
    const page = await listAll<Acl>(ctx, '/acls');
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'rules'],
        p.items.map((a) => [a.id, a.name, a.rules.length]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one ACL with its rules',
  args: ID,
  examples: ['sagctl acl get acl-2b3c4d'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Acl>(pathOf('acls', ctx.args[0])), aclView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete an ACL',
  args: ID,
  examples: ['sagctl acl delete acl-2b3c4d'],
  async run(ctx) {
    await ctx.api.delete(pathOf('acls', ctx.args[0]));
    done(ctx, `deleted ACL ${ctx.args[0]}`);
  },
};

const addRule: CommandSpec = {
  name: 'add-rule',
  summary: 'add a rule; the first matching rule wins, no match accepts',
  args: ID,
  flags: Object.fromEntries(
    Object.entries(RULE_FLAGS).map(([name, spec]) => [
      name,
      { ...spec, required: REQUIRED_RULE_FLAGS.includes(name) },
    ]),
  ),
  examples: [
    'sagctl acl add-rule acl-2b3c4d --name no-ssh --direction out --policy drop --priority 10 --protocol tcp --dest 10.1.0.0/16 --dest-ports 22/22',
  ],
  async run(ctx) {
    const fields = ruleFields(ctx.flags);
    const body: AclRuleCreate = {
      ...(fields as AclRuleCreate),
      sourceCidr: fields.sourceCidr ?? ANY_CIDR,
      sourcePortRange: fields.sourcePortRange ?? ANY_PORT,
      destCidr: fields.destCidr ?? ANY_CIDR,
      destPortRange: fields.destPortRange ?? ANY_PORT,
    };
    const rule = await ctx.api.post<AclRule>(pathOf('acls', ctx.args[0], 'rules'), body);
    show(ctx, rule, (r) => rulesTable([r]));
  },
};

const updateRule: CommandSpec = {
  name: 'update-rule',
  summary: 'change some fields of a rule',
  args: ['ACL_ID', 'RULE_ID'],
  flags: RULE_FLAGS,
  examples: ['sagctl acl update-rule acl-2b3c4d aclr-4c5d6e --policy accept'],
  async run(ctx) {
    const body = ruleFields(ctx.flags);
    if (Object.values(body).every((v) => v === undefined)) {
      throw ctx.flags.usage(
        `give at least one of ${Object.keys(RULE_FLAGS)
          .map((n) => `--${n}`)
          .join(', ')}`,
      );
    }
    const [aclId, ruleId] = ctx.args;
    const rule = await ctx.api.patch<AclRule>(pathOf('acls', aclId, 'rules', ruleId), body);
    show(ctx, rule, (r) => rulesTable([r]));
  },
};

const removeRule: CommandSpec = {
  name: 'remove-rule',
  summary: 'remove a rule',
  args: ['ACL_ID', 'RULE_ID'],
  examples: ['sagctl acl remove-rule acl-2b3c4d aclr-4c5d6e'],
  async run(ctx) {
    const [aclId, ruleId] = ctx.args;
    await ctx.api.delete(pathOf('acls', aclId, 'rules', ruleId));
    done(ctx, `removed rule ${ruleId} from ACL ${aclId}`);
  },
};

export const aclGroup: GroupSpec = {
  name: 'acl',
  summary: 'gateway ACLs: the device firewall between branch LAN and overlay',
  commands: [create, list, get, remove, addRule, updateRule, removeRule],
};
