import type {
  Gateway,
  GatewayConfigView,
  GatewayCreate,
  GatewayPatch,
  GatewayRenew,
  GatewayStatus,
} from '../../api/schemas/gateways.js';
import { type CommandSpec, done, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { configView, gatewayRows, gatewayView, statusView } from './gatewayViews.js';

/** Ordering a gateway and following it through its lifecycle (tutorial steps 1 and 3). */

const ID = ['GATEWAY_ID'];

const create: CommandSpec = {
  name: 'create',
  summary: 'order a gateway instance (step 1); it starts as "ordered"',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Hangzhou branch"' },
    area: {
      type: 'string',
      value: 'AREA',
      required: true,
      description: 'e.g. china-mainland (see sagctl areas)',
    },
    spec: { type: 'string', value: 'SPEC', required: true, description: 'sag-100wm, sag-1000 or sag-vcpe' },
    bandwidth: {
      type: 'string',
      value: 'MBPS',
      required: true,
      description: 'sag-100wm 2-50, sag-1000 10-500, sag-vcpe 10-1000',
    },
    months: { type: 'string', value: 'N', required: true, description: 'subscription: 1-9, 12, 24 or 36' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: [
    'sagctl gateway create --name "Hangzhou branch" --area china-mainland --spec sag-100wm --bandwidth 2 --months 1',
  ],
  async run(ctx) {
    const body: GatewayCreate = {
      name: ctx.flags.text('name'),
      area: ctx.flags.text('area'),
      spec: ctx.flags.text('spec') as GatewayCreate['spec'],
      bandwidthMbps: ctx.flags.integer('bandwidth'),
      subscriptionMonths: ctx.flags.integer('months'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<Gateway>('/gateways', body), gatewayView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list gateways',
  flags: {
    ccn: { type: 'string', value: 'CCN_ID', description: 'only gateways bound to this CCN' },
    ...LIST_FLAGS,
  },
  examples: ['sagctl gateway list', 'sagctl gateway list --ccn ccn-77c0d1 --all'],
  async run(ctx) {
    const page = await listAll<Gateway>(ctx, '/gateways', { ccnId: ctx.flags.optionalText('ccn') });
    show(ctx, page, (p) => gatewayRows(p.items));
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one gateway',
  args: ID,
  examples: ['sagctl gateway get sag-8f2a1c'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Gateway>(pathOf('gateways', ctx.args[0])), gatewayView);
  },
};

const update: CommandSpec = {
  name: 'update',
  summary: 'rename a gateway, change its description or its bandwidth',
  args: ID,
  flags: {
    name: { type: 'string', value: 'NAME', description: 'new name' },
    description: { type: 'string', value: 'TEXT', description: 'new description' },
    bandwidth: { type: 'string', value: 'MBPS', description: 'new bandwidth, within the range of the spec' },
  },
  examples: ['sagctl gateway update sag-8f2a1c --bandwidth 10'],
  async run(ctx) {
    const body: GatewayPatch = {
      name: ctx.flags.optionalText('name'),
      description: ctx.flags.optionalText('description'),
      bandwidthMbps: ctx.flags.optionalInteger('bandwidth'),
    };
    if (Object.values(body).every((v) => v === undefined)) {
      throw ctx.flags.usage('give at least one of --name, --description, --bandwidth');
    }
    show(ctx, await ctx.api.patch<Gateway>(pathOf('gateways', ctx.args[0]), body), gatewayView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete a gateway (refused while it is bound to a CCN)',
  args: ID,
  examples: ['sagctl gateway delete sag-8f2a1c'],
  async run(ctx) {
    await ctx.api.delete(pathOf('gateways', ctx.args[0]));
    done(ctx, `deleted gateway ${ctx.args[0]}`);
  },
};

const activate: CommandSpec = {
  name: 'activate',
  summary: 'activate a gateway whose device is bound (step 3); billing starts now',
  args: ID,
  examples: ['sagctl gateway activate sag-8f2a1c'],
  async run(ctx) {
    show(ctx, await ctx.api.post<Gateway>(pathOf('gateways', ctx.args[0], 'activate')), gatewayView);
  },
};

const renew: CommandSpec = {
  name: 'renew',
  summary: 'extend the subscription of an active gateway (unlocks an expired one)',
  args: ID,
  flags: { months: { type: 'string', value: 'N', required: true, description: '1-9, 12, 24 or 36' } },
  examples: ['sagctl gateway renew sag-8f2a1c --months 12'],
  async run(ctx) {
    const body: GatewayRenew = { subscriptionMonths: ctx.flags.integer('months') };
    show(ctx, await ctx.api.post<Gateway>(pathOf('gateways', ctx.args[0], 'renew'), body), gatewayView);
  },
};

const status: CommandSpec = {
  name: 'status',
  summary: 'lifecycle, presence, config sync, revisions and tunnels as the device reported them',
  args: ID,
  examples: ['sagctl gateway status sag-8f2a1c'],
  async run(ctx) {
    show(ctx, await ctx.api.get<GatewayStatus>(pathOf('gateways', ctx.args[0], 'status')), statusView);
  },
};

const config: CommandSpec = {
  name: 'config',
  summary: 'the compiled desired config: tunnels, routes, ACL rules',
  args: ID,
  examples: ['sagctl gateway config sag-8f2a1c', 'sagctl --json gateway config sag-8f2a1c'],
  async run(ctx) {
    show(ctx, await ctx.api.get<GatewayConfigView>(pathOf('gateways', ctx.args[0], 'config')), configView);
  },
};

export const gatewayLifecycleCommands = [create, list, get, update, remove, activate, renew, status, config];
