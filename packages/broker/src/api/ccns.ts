import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ControlPlane } from '../controlPlane.js';
import * as ops from '../domain/operations/index.js';
import type { Ccn as CcnEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { Ccn, CcnCreate, CcnGatewayBinding, CcnGatewayParams } from './schemas/ccns.js';
import { IdParams, NoContent, Page, PageQuery, responses } from './schemas/common.js';

const tags = ['ccns'];

/** A CCN as served: the entity plus the gateways bound to it (the binding lives on the gateway). */
export function ccnView(cp: ControlPlane, ccn: CcnEntity): Ccn {
  const gatewayIds = [...cp.topology.gateways.values()].filter((g) => g.ccnId === ccn.id).map((g) => g.id);
  return { ...ccn, gatewayIds };
}

/** Cloud Connect Networks: the private network a group of gateways of one area shares. */
export const ccnsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.post(
    '/ccns',
    { schema: { tags, summary: 'Create a CCN', body: CcnCreate, response: responses({ 201: Ccn }) } },
    async (request, reply) => {
      const ccn = cp.mutate<CcnEntity>(operator(request), (t, ctx) => ops.createCcn(t, ctx, request.body));
      return reply.code(201).send(ccnView(cp, ccn!));
    },
  );

  app.get(
    '/ccns',
    {
      schema: { tags, summary: 'List CCNs', querystring: PageQuery, response: responses({ 200: Page(Ccn) }) },
    },
    async (request) => {
      const page = cp.list('ccn', request.query);
      return { items: page.items.map((ccn) => ccnView(cp, ccn)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/ccns/:id',
    { schema: { tags, summary: 'Get a CCN', params: IdParams, response: responses({ 200: Ccn }) } },
    async (request) => ccnView(cp, cp.get('ccn', request.params.id)),
  );

  app.delete(
    '/ccns/:id',
    {
      schema: {
        tags,
        summary: 'Delete a CCN (refused while gateways are bound or it is attached to a CEN)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteCcn(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/ccns/:id/gateways',
    {
      schema: {
        tags,
        summary: 'Bind a gateway of the same area to the CCN',
        params: IdParams,
        body: CcnGatewayBinding,
        response: responses({ 201: Ccn }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.bindCcnGateway(t, ctx, request.params.id, request.body));
      return reply.code(201).send(ccnView(cp, cp.get('ccn', request.params.id)));
    },
  );

  app.delete(
    '/ccns/:id/gateways/:gatewayId',
    {
      schema: {
        tags,
        summary: 'Unbind a gateway from the CCN',
        params: CcnGatewayParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { id, gatewayId } = request.params;
      cp.mutate(operator(request), (t, ctx) => ops.unbindCcnGateway(t, ctx, id, gatewayId));
      return reply.code(204).send(null);
    },
  );
};
