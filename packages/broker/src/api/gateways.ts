import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { Gateway as GatewayEntity } from '../domain/types.js';
import { gatewaySettingsApi } from './gatewaySettings.js';
import { operator, type ResourceOptions } from './operator.js';
import { IdParams, NoContent, Page, responses } from './schemas/common.js';
import {
  Gateway,
  GatewayConfigView,
  GatewayCreate,
  GatewayListQuery,
  GatewayPatch,
  GatewayRenew,
  GatewayStatus,
} from './schemas/gateways.js';

const tags = ['gateways'];

/** Gateway instances: ordering, the subscription, and what the broker knows of each. */
export const gatewaysApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  const view = (gateway: GatewayEntity | null) => cp.gatewayView(gateway!);

  app.post(
    '/gateways',
    {
      schema: {
        tags,
        summary: 'Create a gateway instance',
        body: GatewayCreate,
        response: responses({ 201: Gateway }),
      },
    },
    async (request, reply) => {
      const created = cp.mutate<GatewayEntity>(operator(request), (t, ctx) =>
        ops.createGateway(t, ctx, request.body),
      );
      return reply.code(201).send(view(created));
    },
  );

  app.get(
    '/gateways',
    {
      schema: {
        tags,
        summary: 'List gateways',
        querystring: GatewayListQuery,
        response: responses({ 200: Page(Gateway) }),
      },
    },
    async (request) => {
      const { ccnId, ...page } = request.query;
      const found = cp.list('gateway', page, ccnId === undefined ? undefined : (g) => g.ccnId === ccnId);
      return { items: found.items.map(view), nextCursor: found.nextCursor };
    },
  );

  app.get(
    '/gateways/:id',
    { schema: { tags, summary: 'Get a gateway', params: IdParams, response: responses({ 200: Gateway }) } },
    async (request) => view(cp.get('gateway', request.params.id)),
  );

  app.patch(
    '/gateways/:id',
    {
      schema: {
        tags,
        summary: 'Rename a gateway, change its description or bandwidth',
        params: IdParams,
        body: GatewayPatch,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(
        cp.mutate(operator(request), (t, ctx) => ops.updateGateway(t, ctx, request.params.id, request.body)),
      ),
  );

  app.delete(
    '/gateways/:id',
    {
      schema: {
        tags,
        summary: 'Delete a gateway (refused while it is bound to a CCN)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteGateway(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/gateways/:id/activate',
    {
      schema: {
        tags,
        summary: 'Activate a gateway whose device is bound; billing starts now',
        params: IdParams,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(cp.mutate(operator(request), (t, ctx) => ops.activateGateway(t, ctx, request.params.id))),
  );

  app.post(
    '/gateways/:id/renew',
    {
      schema: {
        tags,
        summary: 'Extend the subscription of an active gateway (unlocks an expired one)',
        params: IdParams,
        body: GatewayRenew,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(
        cp.mutate(operator(request), (t, ctx) => ops.renewGateway(t, ctx, request.params.id, request.body)),
      ),
  );

  app.get(
    '/gateways/:id/status',
    {
      schema: {
        tags,
        summary: 'Lifecycle, presence, config sync and tunnels as the device reported them',
        params: IdParams,
        response: responses({ 200: GatewayStatus }),
      },
    },
    async (request) => cp.gatewayStatus(request.params.id),
  );

  app.get(
    '/gateways/:id/config',
    {
      schema: {
        tags,
        summary: 'The compiled desired config of the gateway',
        params: IdParams,
        response: responses({ 200: GatewayConfigView }),
      },
    },
    async (request) => cp.gatewayConfig(request.params.id),
  );

  await app.register(gatewaySettingsApi, { controlPlane: cp });
};
