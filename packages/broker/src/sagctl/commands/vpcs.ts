import type { Vpc, VpcCreate } from '../../api/schemas/vpcs.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { joined, keyValues, table } from '../table.js';

/** VPCs: the cloud networks the branches reach (tutorial step 4). */

const ID = ['VPC_ID'];

function vpcView(v: Vpc): string {
  return keyValues([
    ['id', v.id],
    ['name', v.name],
    ['description', v.description],
    ['region', v.region],
    ['cidr blocks', joined(v.cidrBlocks)],
    ['cen', v.cenId],
    ['created', v.createdAt],
  ]);
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create a VPC in a region',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Shanghai VPC"' },
    region: {
      type: 'string',
      value: 'REGION',
      required: true,
      description: 'e.g. cn-shanghai (see sagctl areas)',
    },
    cidr: {
      type: 'string',
      multiple: true,
      value: 'CIDR',
      required: true,
      description: 'repeatable, 1-5 blocks',
    },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: ['sagctl vpc create --name "Shanghai VPC" --region cn-shanghai --cidr 10.1.0.0/16'],
  async run(ctx) {
    const body: VpcCreate = {
      name: ctx.flags.text('name'),
      region: ctx.flags.text('region'),
      cidrBlocks: ctx.flags.list('cidr'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<Vpc>('/vpcs', body), vpcView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list VPCs',
  flags: LIST_FLAGS,
  examples: ['sagctl vpc list'],
  async run(ctx) {
    const page = await listAll<Vpc>(ctx, '/vpcs');
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'region', 'cidr blocks', 'cen'],
        p.items.map((v) => [v.id, v.name, v.region, joined(v.cidrBlocks), v.cenId]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one VPC',
  args: ID,
  examples: ['sagctl vpc get vpc-1a2b3c'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Vpc>(pathOf('vpcs', ctx.args[0])), vpcView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete a VPC',
  args: ID,
  examples: ['sagctl vpc delete vpc-1a2b3c'],
  async run(ctx) {
    await ctx.api.delete(pathOf('vpcs', ctx.args[0]));
    done(ctx, `deleted VPC ${ctx.args[0]}`);
  },
};

export const vpcGroup: GroupSpec = {
  name: 'vpc',
  summary: 'VPCs: cloud networks in a region',
  commands: [create, list, get, remove],
};
