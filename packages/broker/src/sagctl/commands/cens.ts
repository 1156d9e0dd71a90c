import type {
  BandwidthPackages,
  Cen,
  CenAttachmentCreate,
  CenCreate,
  CenRoute,
} from '../../api/schemas/cens.js';
import type { Flags } from '../args.js';
import type { Page } from '../client.js';
import { type CommandSpec, done, type GroupSpec, LIST_FLAGS, listAll, pathOf, show } from '../command.js';
import { keyValues, section, table } from '../table.js';

/** Cloud Enterprise Networks: what joins CCNs and VPCs, and the routes between them (step 4). */

const ID = ['CEN_ID'];

function cenView(c: Cen): string {
  const attachments = table(
    ['type', 'id'],
    c.attachments.map((a) => [a.instanceType, a.instanceId]),
  );
  const packages = table(
    ['areas', 'mbps'],
    c.bandwidthPackages.map((p) => [p.areas.join(' <-> '), p.bandwidthMbps]),
  );
  return (
    keyValues([
      ['id', c.id],
      ['name', c.name],
      ['description', c.description],
      ['created', c.createdAt],
    ]) +
    section('ATTACHMENTS', c.attachments.length > 0 ? attachments : '') +
    section('BANDWIDTH PACKAGES', c.bandwidthPackages.length > 0 ? packages : '')
  );
}

function routesView(page: Page<CenRoute>): string {
  return table(
    ['destination', 'source', 'learner', 'state', 'reason'],
    page.items.map((r) => [
      r.destination,
      `${r.sourceKind} ${r.sourceResourceId}`,
      `${r.learnerKind} ${r.learnerResourceId}`,
      r.state,
      r.reason,
    ]),
  );
}

const create: CommandSpec = {
  name: 'create',
  summary: 'create a CEN',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, description: 'e.g. "Company CEN"' },
    description: { type: 'string', value: 'TEXT', description: 'free text' },
  },
  examples: ['sagctl cen create --name "Company CEN"'],
  async run(ctx) {
    const body: CenCreate = {
      name: ctx.flags.text('name'),
      description: ctx.flags.optionalText('description'),
    };
    show(ctx, await ctx.api.post<Cen>('/cens', body), cenView);
  },
};

const list: CommandSpec = {
  name: 'list',
  summary: 'list CENs',
  flags: LIST_FLAGS,
  examples: ['sagctl cen list'],
  async run(ctx) {
    const page = await listAll<Cen>(ctx, '/cens');
    show(ctx, page, (p) =>
      table(
        ['id', 'name', 'attachments', 'bandwidth packages'],
        p.items.map((c) => [
          c.id,
          c.name,
          c.attachments.map((a) => a.instanceId).join(', '),
          c.bandwidthPackages.length,
        ]),
      ),
    );
  },
};

const get: CommandSpec = {
  name: 'get',
  summary: 'show one CEN with its attachments and bandwidth packages',
  args: ID,
  examples: ['sagctl cen get cen-3b9e42'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Cen>(pathOf('cens', ctx.args[0])), cenView);
  },
};

const remove: CommandSpec = {
  name: 'delete',
  summary: 'delete a CEN',
  args: ID,
  examples: ['sagctl cen delete cen-3b9e42'],
  async run(ctx) {
    await ctx.api.delete(pathOf('cens', ctx.args[0]));
    done(ctx, `deleted CEN ${ctx.args[0]}`);
  },
};

const ATTACHABLE = {
  vpc: { type: 'string', value: 'VPC_ID', description: 'a VPC' },
  ccn: { type: 'string', value: 'CCN_ID', description: 'a CCN' },
} as const;

const attach: CommandSpec = {
  name: 'attach',
  summary: 'attach a VPC or a CCN (refused if it would overlap a block already reachable)',
  args: ID,
  flags: ATTACHABLE,
  examples: [
    'sagctl cen attach cen-3b9e42 --vpc vpc-1a2b3c',
    'sagctl cen attach cen-3b9e42 --ccn ccn-77c0d1',
  ],
  async run(ctx) {
    const { name, value } = ctx.flags.oneOf(['vpc', 'ccn']);
    const body: CenAttachmentCreate = { instanceType: name, instanceId: value };
    show(ctx, await ctx.api.post<Cen>(pathOf('cens', ctx.args[0], 'attachments'), body), cenView);
  },
};

const detach: CommandSpec = {
  name: 'detach',
  summary: 'detach a VPC or a CCN',
  args: ID,
  flags: ATTACHABLE,
  examples: ['sagctl cen detach cen-3b9e42 --vpc vpc-1a2b3c'],
  async run(ctx) {
    const { value } = ctx.flags.oneOf(['vpc', 'ccn']);
    await ctx.api.delete(pathOf('cens', ctx.args[0], 'attachments', value));
    done(ctx, `detached ${value} from CEN ${ctx.args[0]}`);
  },
};

const routes: CommandSpec = {
  name: 'routes',
  summary: 'the effective route table: every block, where it comes from, whether it is active and why not',
  args: ID,
  examples: ['sagctl cen routes cen-3b9e42'],
  async run(ctx) {
    show(ctx, await ctx.api.get<Page<CenRoute>>(pathOf('cens', ctx.args[0], 'routes')), routesView);
  },
};

const bandwidthPackages: CommandSpec = {
  name: 'bandwidth-packages',
  summary: 'replace the bandwidth packages that let routes cross between areas',
  args: ID,
  flags: {
    package: { type: 'string', multiple: true, value: 'AREA,AREA:MBPS', description: 'repeatable' },
    none: { type: 'boolean', description: 'remove every package' },
  },
  examples: [
    'sagctl cen bandwidth-packages cen-3b9e42 --package china-mainland,asia-pacific:10',
    'sagctl cen bandwidth-packages cen-3b9e42 --none',
  ],
  async run(ctx) {
    const body = packagesFromFlags(ctx.flags);
    show(ctx, await ctx.api.put<Cen>(pathOf('cens', ctx.args[0], 'bandwidth-packages'), body), cenView);
  },
};

function packagesFromFlags(flags: Flags): BandwidthPackages {
  if (flags.has('none')) {
    if (flags.has('package')) throw flags.usage('give --package or --none, not both');
    return [];
  }
  if (!flags.has('package')) throw flags.usage('give at least one --package AREA,AREA:MBPS, or --none');
  return flags.list('package').map((text) => {
    const match = /^([^,:]+),([^,:]+):(\d{1,9})$/.exec(text);
    if (!match)
      throw flags.usage(`--package "${text}": expected AREA,AREA:MBPS, e.g. china-mainland,europe:10`);
    return { areas: [match[1], match[2]], bandwidthMbps: Number(match[3]) };
  });
}

export const cenGroup: GroupSpec = {
  name: 'cen',
  summary: 'Cloud Enterprise Networks: join CCNs and VPCs; routes and bandwidth packages',
  commands: [create, list, get, remove, attach, detach, routes, bandwidthPackages],
};
