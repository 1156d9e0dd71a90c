import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ResourceOptions } from './operator.js';
import { AccessPointConfigView, AccessPointView } from './schemas/accessPoints.js';
import { IdParams, Page, responses } from './schemas/common.js';

const tags = ['access-points'];

/**
 * The access points of the broker's config file (read-only here: they are infrastructure, set up
 * with the broker), with the sync state of the edge agents that run them.
 */
export const accessPointsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (
  app,
  { controlPlane: cp },
) => {
  app.get(
    '/access-points',
    {
      schema: {
        tags,
        summary: 'List access points: active, standby and spare, and their edge agents',
        response: responses({ 200: Page(AccessPointView) }),
      },
    },
    async () => ({ items: cp.accessPoints(), nextCursor: null }),
  );

  app.get(
    '/access-points/:id',
    {
      schema: {
        tags,
        summary: 'One access point and its edge agent',
        params: IdParams,
        response: responses({ 200: AccessPointView }),
      },
    },
    async (request) => cp.accessPoint(request.params.id),
  );

  app.get(
    '/access-points/:id/config',
    {
      schema: {
        tags,
        summary: 'The compiled config of an access point run by an edge agent: peers, VPCs, security groups',
        params: IdParams,
        response: responses({ 200: AccessPointConfigView }),
      },
    },
    async (request) => cp.accessPointConfig(request.params.id),
  );
};
