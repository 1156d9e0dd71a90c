import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ResourceOptions } from './operator.js';
import { AreaView } from './schemas/areas.js';
import { Page, responses } from './schemas/common.js';

/** The area/region catalogue and which areas accept gateways. */
export const areasApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.get(
    '/areas',
    {
      schema: {
        tags: ['areas'],
        summary: 'List areas, their regions, and whether gateways may be created there',
        response: responses({ 200: Page(AreaView) }),
      },
    },
    async () => ({ items: cp.areas(), nextCursor: null }),
  );
};
