import type { Event } from '../../api/schemas/events.js';
import { type CommandSpec, LIST_FLAGS, listAll, show } from '../command.js';
import { table } from '../table.js';

/** The event log: what operators changed and what devices did. */

export const eventsCommand: CommandSpec = {
  name: 'events',
  summary: 'the event log, newest first: every API change (actor, before, after) and what devices did',
  flags: {
    resource: { type: 'string', value: 'ID', description: 'only events about this resource' },
    category: { type: 'string', value: 'CATEGORY', description: 'audit (API changes) or device' },
    ...LIST_FLAGS,
  },
  examples: ['sagctl events --resource sag-8f2a1c --limit 20', 'sagctl events --category device'],
  async run(ctx) {
    const page = await listAll<Event>(ctx, '/events', {
      resourceId: ctx.flags.optionalText('resource'),
      category: ctx.flags.optionalText('category'),
    });
    show(ctx, page, (p) =>
      table(
        ['id', 'at', 'category', 'action', 'actor', 'resource'],
        p.items.map((e) => [e.id, e.at, e.category, e.action, e.actor, e.resourceId]),
      ),
    );
  },
};
