import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { Instance as InstanceEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { IdParams, NoContent, Page, responses } from './schemas/common.js';
import { Instance, InstanceCreate, VpcFilterQuery } from './schemas/instances.js';

const tags = ['instances'];

/** VPC instances: an address in a VPC and the security groups that guard it. */
export const instancesApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.post(
    '/instances',
    {
      schema: {
        tags,
        summary: 'Create an instance',
        body: InstanceCreate,
        response: responses({ 201: Instance }),
      },
    },
    async (request, reply) => {
      const instance = cp.mutate<InstanceEntity>(operator(request), (t, ctx) =>
        ops.createInstance(t, ctx, request.body),
      );
      return reply.code(201).send(instance!);
    },
  );

  app.get(
    '/instances',
    {
      schema: {
        tags,
        summary: 'List instances',
        querystring: VpcFilterQuery,
        response: responses({ 200: Page(Instance) }),
      },
    },
    async (request) => {
      const { vpcId, ...page } = request.query;
      return cp.list('instance', page, vpcId === undefined ? undefined : (i) => i.vpcId === vpcId);
    },
  );

  app.get(
    '/instances/:id',
    {
      schema: { tags, summary: 'Get an instance', params: IdParams, response: responses({ 200: Instance }) },
    },
    async (request) => cp.get('instance', request.params.id),
  );

  app.delete(
    '/instances/:id',
    {
      schema: {
        tags,
        summary: 'Delete an instance',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteInstance(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );
};
