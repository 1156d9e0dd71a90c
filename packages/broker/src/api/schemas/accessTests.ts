import { type Static, Type } from '@sinclair/typebox';
import { Ipv4 } from './common.js';

const Id = Type.String({ maxLength: 128 });

export const AccessTestRequest = Type.Object(
  {
    source: Type.Union(
      [
        Type.Object({ gatewayId: Id, ip: Ipv4 }, { additionalProperties: false, title: 'Branch address' }),
        Type.Object({ instanceId: Id }, { additionalProperties: false, title: 'VPC instance' }),
      ],
      { description: '`{gatewayId, ip}` for a branch address, or `{instanceId}`' },
    ),
    destination: Type.Union(
      [
        Type.Object({ ip: Ipv4 }, { additionalProperties: false, title: 'Address' }),
        Type.Object({ instanceId: Id }, { additionalProperties: false, title: 'VPC instance' }),
      ],
      { description: '`{ip}` or `{instanceId}`' },
    ),
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp')]),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'tcp/udp destination port' }),
    ),
  },
  { additionalProperties: false },
);
export type AccessTestRequest = Static<typeof AccessTestRequest>;

export const AccessHop = Type.Object({
  kind: Type.String({
    description:
      'What was checked: gateway, device, branch-address, acl-out, security-group-egress, ccn, vpc, cen, route, ' +
      'acl-in, security-group-ingress, destination',
  }),
  resourceId: Type.String({ description: 'The resource or rule that decided this hop' }),
  verdict: Type.Union([Type.Literal('pass'), Type.Literal('block')]),
  reason: Type.String(),
});

export const AccessTestResult = Type.Object({
  reachable: Type.Boolean(),
  reason: Type.String({ description: 'Plain words; when unreachable, the first blocking hop' }),
  hops: Type.Array(AccessHop),
});
export type AccessTestResult = Static<typeof AccessTestResult>;
