import type { AreaView } from '../../api/schemas/areas.js';
import type { Page } from '../client.js';
import { type CommandSpec, show } from '../command.js';
import { joined, table } from '../table.js';

/** The area catalogue: where gateways, CCNs and VPCs may live. */

export const areasCommand: CommandSpec = {
  name: 'areas',
  summary: 'areas, their regions, and whether gateways and CCNs may be created there',
  examples: ['sagctl areas'],
  async run(ctx) {
    const answer = await ctx.api.get<Page<AreaView>>('/areas');
    show(ctx, answer, (p) =>
      table(
        ['area', 'enabled', 'regions'],
        p.items.map((a) => [a.area, a.enabled, joined(a.regions)]),
      ),
    );
  },
};
