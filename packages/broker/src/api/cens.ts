import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ControlPlane } from '../controlPlane.js';
import * as ops from '../domain/operations/index.js';
import type { Cen as CenEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import {
  BandwidthPackages,
  Cen,
  CenAttachmentCreate,
  CenAttachmentParams,
  CenCreate,
  CenRoute,
} from './schemas/cens.js';
import { IdParams, NoContent, Page, PageQuery, responses } from './schemas/common.js';

const tags = ['cens'];

/** A CEN as served: the entity plus what is attached to it (the attachment lives on the CCN or VPC). */
export function cenView(cp: ControlPlane, cen: CenEntity): Cen {
  const ccns = [...cp.topology.ccns.values()].filter((c) => c.cenId === cen.id);
  const vpcs = [...cp.topology.vpcs.values()].filter((v) => v.cenId === cen.id);
  return {
    ...cen,
    attachments: [
      ...ccns.map((c) => ({ instanceType: 'ccn' as const, instanceId: c.id })),
      ...vpcs.map((v) => ({ instanceType: 'vpc' as const, instanceId: v.id })),
    ],
  };
}

/** Cloud Enterprise Networks: join CCNs and VPCs, across regions and (with bandwidth packages) areas. */
export const censApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  const current = (id: string) => cenView(cp, cp.get('cen', id));

  app.post(
    '/cens',
    { schema: { tags, summary: 'Create a CEN', body: CenCreate, response: responses({ 201: Cen }) } },
    async (request, reply) => {
      const cen = cp.mutate<CenEntity>(operator(request), (t, ctx) => ops.createCen(t, ctx, request.body));
      return reply.code(201).send(cenView(cp, cen!));
    },
  );

  app.get(
    '/cens',
    {
      schema: { tags, summary: 'List CENs', querystring: PageQuery, response: responses({ 200: Page(Cen) }) },
    },
    async (request) => {
      const page = cp.list('cen', request.query);
      return { items: page.items.map((cen) => cenView(cp, cen)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/cens/:id',
    { schema: { tags, summary: 'Get a CEN', params: IdParams, response: responses({ 200: Cen }) } },
    async (request) => current(request.params.id),
  );

  app.delete(
    '/cens/:id',
    {
      schema: {
        tags,
        summary: 'Delete a CEN (refused while anything is attached)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteCen(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/cens/:id/attachments',
    {
      schema: {
        tags,
        summary: 'Attach a VPC or a CCN (refused if it would overlap a block already reachable)',
        params: IdParams,
        body: CenAttachmentCreate,
        response: responses({ 201: Cen }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.attachToCen(t, ctx, request.params.id, request.body));
      return reply.code(201).send(current(request.params.id));
    },
  );

  app.delete(
    '/cens/:id/attachments/:instanceId',
    {
      schema: {
        tags,
        summary: 'Detach a VPC or a CCN',
        params: CenAttachmentParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { id, instanceId } = request.params;
      cp.mutate(operator(request), (t, ctx) => ops.detachFromCen(t, ctx, id, instanceId));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/cens/:id/routes',
    {
      schema: {
        tags,
        summary: 'The effective route table: every block, where it comes from, and whether it is active',
        params: IdParams,
        response: responses({ 200: Page(CenRoute) }),
      },
    },
    async (request) => ({ items: cp.cenRoutes(request.params.id), nextCursor: null }),
  );

  app.put(
    '/cens/:id/bandwidth-packages',
    {
      schema: {
        tags,
        summary: 'Replace the bandwidth packages that let routes cross between areas',
        params: IdParams,
        body: BandwidthPackages,
        response: responses({ 200: Cen }),
      },
    },
    async (request) => {
      cp.mutate(operator(request), (t, ctx) =>
        ops.setBandwidthPackages(t, ctx, request.params.id, request.body),
      );
      return current(request.params.id);
    },
  );
};
