import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../errors.js';

const errorTable = Object.entries(ERROR_CODES)
  .map(([code, { status, summary }]) => `| ${code} | ${status} | ${summary} |`)
  .join('\n');

const description = `The control plane of OpenSAG: gateways, CCNs, CENs, VPCs, security groups and ACLs.

Every \`/v1\` route needs \`Authorization: Bearer <token>\`. \`/healthz\`, \`/metrics\` and \`/docs\` need none:
\`/metrics\` serves only counters and timings (no resource data) so a Prometheus scraper needs no secret.

Lists take \`?limit=\` (1-500, default 50) and \`?cursor=\` and answer \`{"items": [...], "nextCursor": "..." | null}\`.
Errors answer \`{"error": {"code", "message", "details"}}\`:

| code | status | meaning |
| --- | --- | --- |
${errorTable}
`;

const tags = [
  ['areas', 'Areas and regions'],
  ['gateways', 'Gateway instances, their device, ports, network, ACL, status and config'],
  ['ccns', 'Cloud Connect Networks'],
  ['cens', 'Cloud Enterprise Networks, attachments, routes and bandwidth packages'],
  ['vpcs', 'VPCs'],
  ['instances', 'VPC instances'],
  ['security-groups', 'Security groups and their rules'],
  ['acls', 'Gateway ACLs and their rules'],
  ['access-tests', 'Reachability analysis'],
  ['events', 'Audit and device events'],
  ['system', 'Health and metrics'],
].map(([name, about]) => ({ name, description: about }));

/** The OpenAPI document (built from the route schemas) at /docs/json and Swagger UI at /docs. */
export function registerDocs(app: FastifyInstance, version: string): void {
  // Registered on the root instance, before the routes, so the document sees every route.
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'OpenSAG broker API', version, description },
      tags,
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'SAG_API_TOKEN' } },
      },
      security: [{ bearerAuth: [] }],
    },
    // Shared schemas become components named by their $id (e.g. #/components/schemas/ErrorBody).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
