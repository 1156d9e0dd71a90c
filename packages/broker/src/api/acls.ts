import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { Acl as AclEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { Acl, AclCreate, AclRule, AclRuleCreate, AclRuleParams, AclRulePatch } from './schemas/acls.js';
import { IdParams, NoContent, Page, PageQuery, responses } from './schemas/common.js';

const tags = ['acls'];

/** Gateway ACLs: the device firewall, shared by any number of gateways. */
export const aclsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (app, { controlPlane: cp }) => {
  app.post(
    '/acls',
    { schema: { tags, summary: 'Create an ACL', body: AclCreate, response: responses({ 201: Acl }) } },
    async (request, reply) => {
      const acl = cp.mutate<AclEntity>(operator(request), (t, ctx) => ops.createAcl(t, ctx, request.body));
      return reply.code(201).send(acl!);
    },
  );

  app.get(
    '/acls',
    {
      schema: { tags, summary: 'List ACLs', querystring: PageQuery, response: responses({ 200: Page(Acl) }) },
    },
    async (request) => cp.list('acl', request.query),
  );

  app.get(
    '/acls/:id',
    { schema: { tags, summary: 'Get an ACL', params: IdParams, response: responses({ 200: Acl }) } },
    async (request) => cp.get('acl', request.params.id),
  );

  app.delete(
    '/acls/:id',
    {
      schema: {
        tags,
        summary: 'Delete an ACL (refused while gateways use it)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteAcl(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/acls/:id/rules',
    {
      schema: {
        tags,
        summary: 'Add a rule',
        params: IdParams,
        body: AclRuleCreate,
        response: responses({ 201: AclRule }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const existing = new Set(cp.get('acl', id).rules.map((r) => r.id));
      const acl = cp.mutate<AclEntity>(operator(request), (t, ctx) =>
        ops.addAclRule(t, ctx, id, request.body),
      );
      return reply.code(201).send(acl!.rules.find((r) => !existing.has(r.id))!);
    },
  );

  app.patch(
    '/acls/:id/rules/:ruleId',
    {
      schema: {
        tags,
        summary: 'Change fields of a rule; it keeps its place among rules of equal priority',
        params: AclRuleParams,
        body: AclRulePatch,
        response: responses({ 200: AclRule }),
      },
    },
    async (request) => {
      const { id, ruleId } = request.params;
      const acl = cp.mutate<AclEntity>(operator(request), (t, ctx) =>
        ops.updateAclRule(t, ctx, id, ruleId, request.body),
      );
      return acl!.rules.find((r) => r.id === ruleId)!;
    },
  );

  app.delete(
    '/acls/:id/rules/:ruleId',
    {
      schema: {
        tags,
        summary: 'Remove a rule',
        params: AclRuleParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { id, ruleId } = request.params;
      cp.mutate(operator(request), (t, ctx) => ops.removeAclRule(t, ctx, id, ruleId));
      return reply.code(204).send(null);
    },
  );
};
