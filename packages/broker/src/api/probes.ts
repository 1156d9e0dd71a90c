import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { DeviceLink } from '../devices/deviceLink.js';
import { IdParams, Ipv4, responses } from './schemas/common.js';

export const ProbeRequest = Type.Object(
  {
    destination: Ipv4,
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp')]),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'tcp/udp destination port' }),
    ),
  },
  { additionalProperties: false },
);
export type ProbeRequest = Static<typeof ProbeRequest>;

export const ProbeAnswer = Type.Object({
  reachable: Type.Boolean(),
  rttMs: Type.Optional(Type.Number({ description: 'Round trip as the device measured it, when reachable' })),
  reason: Type.String({ description: 'What the device saw, in plain words' }),
  seenBy: Type.String({ description: 'Serial number of the device that ran the probe' }),
});

export interface ProbesApiOptions {
  deviceLink: Pick<DeviceLink, 'probe'>;
}

/**
 * Live probes: the gateway's own device tests a destination over its tunnel. 409 DEVICE_OFFLINE
 * when the device is not connected, 504 DEVICE_TIMEOUT when it does not answer in time.
 */
export const probesApi: FastifyPluginAsyncTypebox<ProbesApiOptions> = async (app, { deviceLink }) => {
  app.post(
    '/gateways/:id/probes',
    {
      schema: {
        tags: ['gateways'],
        summary: "Ask the gateway's device to probe a destination over its tunnel",
        params: IdParams,
        body: ProbeRequest,
        response: responses({ 200: ProbeAnswer }),
      },
    },
    async (request) => deviceLink.probe(request.params.id, request.body),
  );
};
