import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { Gateway as GatewayEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { IdParams, NoContent, responses } from './schemas/common.js';
import {
  DeviceBinding,
  Gateway,
  GatewayAclBinding,
  GatewayNetwork,
  GatewayPorts,
} from './schemas/gateways.js';

const tags = ['gateways'];

/** What an operator sets on a gateway after ordering it: its device, ports, network and ACL. */
export const gatewaySettingsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (
  app,
  { controlPlane: cp },
) => {
  const view = (gateway: GatewayEntity | null) => cp.gatewayView(gateway!);

  app.put(
    '/gateways/:id/device',
    {
      schema: {
        tags,
        summary: 'Bind the device (serial number and public key made when it was flashed)',
        params: IdParams,
        body: DeviceBinding,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(cp.mutate(operator(request), (t, ctx) => ops.bindDevice(t, ctx, request.params.id, request.body))),
  );

  app.delete(
    '/gateways/:id/device',
    {
      schema: {
        tags,
        summary: 'Unbind the device; it is disconnected',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.unbindDevice(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/gateways/:id/ports',
    {
      schema: {
        tags,
        summary: 'Replace the WAN and LAN port configuration',
        params: IdParams,
        body: GatewayPorts,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(cp.mutate(operator(request), (t, ctx) => ops.setPorts(t, ctx, request.params.id, request.body))),
  );

  app.put(
    '/gateways/:id/network',
    {
      schema: {
        tags,
        summary:
          'Set private CIDR blocks and the CCN (and optionally attach the CCN to a CEN), all or nothing',
        params: IdParams,
        body: GatewayNetwork,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(cp.mutate(operator(request), (t, ctx) => ops.setNetwork(t, ctx, request.params.id, request.body))),
  );

  app.put(
    '/gateways/:id/acl',
    {
      schema: {
        tags,
        summary: 'Apply an ACL to the gateway (replaces the one it had)',
        params: IdParams,
        body: GatewayAclBinding,
        response: responses({ 200: Gateway }),
      },
    },
    async (request) =>
      view(
        cp.mutate(operator(request), (t, ctx) => ops.setGatewayAcl(t, ctx, request.params.id, request.body)),
      ),
  );

  app.delete(
    '/gateways/:id/acl',
    {
      schema: {
        tags,
        summary: 'Remove the gateway’s ACL',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.removeGatewayAcl(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );
};
