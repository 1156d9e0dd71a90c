import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ResourceOptions } from './operator.js';
import { AccessTestRequest, AccessTestResult } from './schemas/accessTests.js';
import { responses } from './schemas/common.js';

/** Whether a branch address reaches a VPC instance (or the reverse), and which hop decides. */
export const accessTestsApi: FastifyPluginAsyncTypebox<ResourceOptions> = async (
  app,
  { controlPlane: cp },
) => {
  app.post(
    '/access-tests',
    {
      schema: {
        tags: ['access-tests'],
        summary: 'Walk the path from a source to a destination and say where it is blocked',
        body: AccessTestRequest,
        response: responses({ 200: AccessTestResult }),
      },
    },
    async (request) => cp.accessTest(request.body),
  );
};
