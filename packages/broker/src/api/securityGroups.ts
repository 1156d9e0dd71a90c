import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as ops from '../domain/operations/index.js';
import type { SecurityGroup as SecurityGroupEntity } from '../domain/types.js';
import { operator, type ResourceOptions } from './operator.js';
import { IdParams, NoContent, Page, responses } from './schemas/common.js';
import { VpcFilterQuery } from './schemas/instances.js';
import {
  SecurityGroup,
  SecurityGroupCreate,
  SecurityGroupRule,
  SecurityGroupRuleCreate,
  SecurityGroupRuleParams,
} from './schemas/securityGroups.js';

const tags = ['security-groups'];

/** Security groups: the cloud-side firewall of VPC instances. */
export const securityGroupsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (
  app,
  { controlPlane: cp },
) => {
  app.post(
    '/security-groups',
    {
      schema: {
        tags,
        summary: 'Create a security group in a VPC',
        body: SecurityGroupCreate,
        response: responses({ 201: SecurityGroup }),
      },
    },
    async (request, reply) => {
      const group = cp.mutate<SecurityGroupEntity>(operator(request), (t, ctx) =>
        ops.createSecurityGroup(t, ctx, request.body),
      );
      return reply.code(201).send(group!);
    },
  );

  app.get(
    '/security-groups',
    {
      schema: {
        tags,
        summary: 'List security groups',
        querystring: VpcFilterQuery,
        response: responses({ 200: Page(SecurityGroup) }),
      },
    },
    async (request) => {
      const { vpcId, ...page } = request.query;
      return cp.list('securityGroup', page, vpcId === undefined ? undefined : (g) => g.vpcId === vpcId);
    },
  );

  app.get(
    '/security-groups/:id',
    {
      schema: {
        tags,
        summary: 'Get a security group',
        params: IdParams,
        response: responses({ 200: SecurityGroup }),
      },
    },
    async (request) => cp.get('securityGroup', request.params.id),
  );

  app.delete(
    '/security-groups/:id',
    {
      schema: {
        tags,
        summary: 'Delete a security group (refused while instances use it)',
        params: IdParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      cp.mutate(operator(request), (t, ctx) => ops.deleteSecurityGroup(t, ctx, request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/security-groups/:id/rules',
    {
      schema: {
        tags,
        summary: 'Add a rule',
        params: IdParams,
        body: SecurityGroupRuleCreate,
        response: responses({ 201: SecurityGroupRule }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const existing = new Set(cp.get('securityGroup', id).rules.map((r) => r.id));
      const group = cp.mutate<SecurityGroupEntity>(operator(request), (t, ctx) =>
        ops.addSecurityGroupRule(t, ctx, id, request.body),
      );
      return reply.code(201).send(group!.rules.find((r) => !existing.has(r.id))!);
    },
  );

  app.delete(
    '/security-groups/:id/rules/:ruleId',
    {
      schema: {
        tags,
        summary: 'Remove a rule',
        params: SecurityGroupRuleParams,
        response: responses({ 204: NoContent }),
      },
    },
    async (request, reply) => {
      const { id, ruleId } = request.params;
      cp.mutate(operator(request), (t, ctx) => ops.removeSecurityGroupRule(t, ctx, id, ruleId));
      return reply.code(204).send(null);
    },
  );
};
