import type { Instance, InstanceCreate } from '../../api/schemas/instances.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { joined, keyValues, table } from '../table.js';

/** VPC instances: the servers branch clients reach (tutorial steps 5 and 6). */

const ID = ['INSTANCE_ID'];

function instanceView(i: Instance): string {
  return keyValues([
    ['id', i.id],
    ['name', i.name],
    ['vpc', i.vpcId],
    ['private ip', i.privateIp],
    ['security groups', joined(i.securityGroupIds)],
    ['created', i.createdAt],
  ]);
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create an instance in a VPC, in 1-5 of its security groups',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Shanghai server"' },
    vpc: { type: 'string', value: 'VPC_ID', required: true, description: 'its VPC' },
    ip: { type: 'string', value: 'IP', required: true, description: 'private address inside the VPC' },
    'security-group': {
      type: 'string',
      multiple: true,
      value: 'SG_ID',
      required: true,
      description: 'repeatable, groups of the same VPC',
    },
  },
  examples: [
    'sagctl instance create --name "Shanghai server" --vpc vpc-1a2b3c --ip 10.1.0.10 --security-group sg-9f8e7d',
  ],
  async run(ctx) {
    const body: InstanceCreate = {
      name: ctx.flags.text('name'),
      vpcId: ctx.flags.text('vpc'),
      privateIp: ctx.flags.text('ip'),
      securityGroupIds: ctx.flags.list('security-group'),
    };
    show(ctx, await ctx.api.post<Instance>('/instances', body), instanceView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list instances',
  flags: { vpc: { type: 'string', value: 'VPC_ID', description: 'only those of this VPC' }, ...LIST_FLAGS },
  examples: ['sagctl instance list --vpc vpc-1a2b3c'],
  async run(ctx) {
    const page = await listAll<Instance>(ctx, '/instances', { vpcId: ctx.flags.optionalText('vpc') });
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'vpc', 'private ip', 'security groups'],
        p.items.map((i) => [i.id, i.name, i.vpcId, i.privateIp, joined(i.securityGroupIds)]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one instance',
  args: ID,
  examples: ['sagctl instance get i-5d6e7f'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Instance>(pathOf('instances', ctx.args[0])), instanceView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete an instance',
  args: ID,
  examples: ['sagctl instance delete i-5d6e7f'],
  async run(ctx) {
    await ctx.api.delete(pathOf('instances', ctx.args[0]));
    done(ctx, `deleted instance ${ctx.args[0]}`);
  },
};

export const instanceGroup: GroupSpec = {
  name: 'instance',
  summary: 'VPC instances: servers with a private address and security groups',
  commands: [create, list, get, remove],
};
