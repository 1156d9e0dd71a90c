import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ResourceOptions } from './operator.js';
import { Page, responses } from './schemas/common.js';
import { Event, EventQuery } from './schemas/events.js';

/** The audit log of every mutation, and what devices did. */
export const eventsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.get(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'List events: API mutations (actor, before, after) and device events',
        querystring: EventQuery,
        response: responses({ 200: Page(Event) }),
      },
    },
    async (request) => {
      const { limit = 50, ...rest } = request.query;
      return cp.events({ limit, ...rest });
    },
  );
};
