import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { Vpc as VpcEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { IdParams, NoContent, Page, PageQuery, responses } from './schemas/common.js';
import { Vpc, VpcCreate } from './schemas/vpcs.js';

const tags = ['vpcs'];

/** Cloud VPCs: a region and its CIDR blocks. */
export const vpcsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.post(
    '/vpcs',
    { schema: { tags, summary: 'Create a VPC', body: VpcCreate, response: responses({ 201: Vpc }) } },
    async (request, reply) => {
      const vpc = cp.mutate<VpcEntity>(operator(request), (t, ctx) => ops.createVpc(t, ctx, request.body));
      return reply.code(201).send(vpc!);
    },
  );

  app.get(
    '/vpcs',
    {
      schema: { tags, summary: 'List VPCs', querystring: PageQuery, response: responses({ 200: Page(Vpc) }) },
    },
    async (request) => cp.list('vpc', request.query),
  );

  app.get(
    '/vpcs/:id',
    { schema: { tags, summary: 'Get a VPC', params: IdParams, response: responses({ 200: Vpc }) } },
    async (request) => cp.get('vpc', request.params.id),
  );

  app.delete(
    '/vpcs/:id',
    {
      schema: {
        tags,
        summary: 'Delete a VPC (refused while it has instances, security groups or a CEN attachment)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteVpc(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );
};
