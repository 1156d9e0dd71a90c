import type { Ccn, CcnCreate, CcnGatewayBinding } from '../../api/schemas/ccns.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { joined, keyValues, table } from '../table.js';

/** Cloud Connect Networks: the gateways of one area that reach each other (tutorial step 4). */

const ID = ['CCN_ID'];

function ccnView(c: Ccn): string {
  return keyValues([
    ['id', c.id],
    ['name', c.name],
    ['description', c.description],
    ['area', c.area],
    ['cen', c.cenId],
    ['gateways', joined(c.gatewayIds)],
    ['created', c.createdAt],
  ]);
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create a CCN in an area',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Branches CCN"' },
    area: { type: 'string', value: 'AREA', required: true, description: 'the area of its gateways' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: ['sagctl ccn create --name "Branches CCN" --area china-mainland'],
  async run(ctx) {
    const body: CcnCreate = {
      name: ctx.flags.text('name'),
      area: ctx.flags.text('area'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<Ccn>('/ccns', body), ccnView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list CCNs',
  flags: LIST_FLAGS,
  examples: ['sagctl ccn list'],
  async run(ctx) {
    const page = await listAll<Ccn>(ctx, '/ccns');
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'area', 'cen', 'gateways'],
        p.items.map((c) => [c.id, c.name, c.area, c.cenId, joined(c.gatewayIds)]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one CCN',
  args: ID,
  examples: ['sagctl ccn get ccn-77c0d1'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Ccn>(pathOf('ccns', ctx.args[0])), ccnView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete a CCN',
  args: ID,
  examples: ['sagctl ccn delete ccn-77c0d1'],
  async run(ctx) {
    await ctx.api.delete(pathOf('ccns', ctx.args[0]));
    done(ctx, `deleted CCN ${ctx.args[0]}`);
  },
};

const addGateway: CommandSpec = {
  name: 'add-gateway',
  summary: 'bind a gateway of the same area to the CCN (gateway network does this too)',
  args: ID,
  flags: {
    gateway: { type: 'string', value: 'GATEWAY_ID', required: true, description: 'the gateway to bind' },
  },
  examples: ['sagctl ccn add-gateway ccn-77c0d1 --gateway sag-8f2a1c'],
  async run(ctx) {
    const body: CcnGatewayBinding = { gatewayId: ctx.flags.text('gateway') };
    show(ctx, await ctx.api.post<Ccn>(pathOf('ccns', ctx.args[0], 'gateways'), body), ccnView);
  },
};

const removeGateway: CommandSpec = {
  name: 'remove-gateway',
  summary: 'unbind a gateway from the CCN',
  args: ID,
  flags: {
    gateway: { type: 'string', value: 'GATEWAY_ID', required: true, description: 'the gateway to unbind' },
  },
  examples: ['sagctl ccn remove-gateway ccn-77c0d1 --gateway sag-8f2a1c'],
  async run(ctx) {
    const gatewayId = ctx.flags.text('gateway');
    await ctx.api.delete(pathOf('ccns', ctx.args[0], 'gateways', gatewayId));
    done(ctx, `unbound gateway ${gatewayId} from CCN ${ctx.args[0]}`);
  },
};

export const ccnGroup: GroupSpec = {
  name: 'ccn',
  summary: 'Cloud Connect Networks: gateways of one area that reach each other',
  commands: [create, list, get, remove, addGateway, removeGateway],
};
