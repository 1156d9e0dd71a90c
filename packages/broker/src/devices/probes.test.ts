import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { decodeCommand, encodeEvent } from '@opensag/proto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../api/errorHandler.js';
import { probesApi } from '../api/probes.js';
import { ErrorBody } from '../api/schemas/common.js';
import { validatorCompiler } from '../api/validation.js';
import { startTestLink, type TestDevice, type TestLink } from './testLink.js';

let t: TestLink;
let api: FastifyInstance;
beforeEach(async () => {
  t = await startTestLink({ probes: { timeoutMs: 300 } });
  api = Fastify().withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;
  api.setValidatorCompiler(validatorCompiler);
  installErrorHandlers(api);
  api.addSchema(ErrorBody);
  api.register(probesApi, { prefix: '/v1', deviceLink: t.link });
  await api.ready();
});
afterEach(async () => {
  await api.close();
  await t.close();
});

const probe = (gatewayId: string, body: unknown) =>
  api.inject({ method: 'POST', url: `/v1/gateways/${gatewayId}/probes`, payload: body as object });

/** A device whose data plane answers every probe request as reachable. */
function answerProbes(client: MqttClient, device: TestDevice, as: string = device.serialNumber) {
  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/cmd')) return;
    const command = decodeCommand(payload);
    if (command.payload !== 'probeRequest') return;
    const { probeId, destination, port } = command.probeRequest;
    client.publish(
      `sag/v1/d/${as}/event`,
      encodeEvent({
        kind: 'PROBE_RESULT',
        probeResult: {
          probeId,
          reachable: true,
          rttMs: 3.5,
          reason: `${destination}:${port} answered`,
          seenBy: 'emulated',
        },
      }),
      { qos: 1 },
    );
  });
}

describe('POST /v1/gateways/{id}/probes', () => {
  it('asks the device and answers with what it saw, seenBy its serial number', async () => {
    const device = t.device({ active: true });
    answerProbes(await t.connectAgent(device), device);
    const res = await probe(device.gatewayId, { destination: '10.1.0.10', protocol: 'tcp', port: 443 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      reachable: true,
      rttMs: 3.5,
      reason: '10.1.0.10:443 answered',
      seenBy: device.serialNumber,
    });
  });

  it('answers 409 DEVICE_OFFLINE when the device is not connected', async () => {
    const device = t.device({ active: true });
    const res = await probe(device.gatewayId, { destination: '10.1.0.10', protocol: 'icmp' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'DEVICE_OFFLINE',
      message: expect.stringContaining(`device ${device.serialNumber}`),
    });
  });

  it('answers 504 DEVICE_TIMEOUT when the device does not answer', async () => {
    const device = t.device({ active: true });
    await t.connectAgent(device);
    const res = await probe(device.gatewayId, { destination: '10.1.0.10', protocol: 'udp', port: 53 });
    expect(res.statusCode).toBe(504);
    expect(res.json().error.code).toBe('DEVICE_TIMEOUT');
  });

  it("does not take another device's answer", async () => {
    const asked = t.device({ active: true });
    const other = t.device({ active: true });
    const askedClient = await t.connectAgent(asked);
    const otherClient = await t.connectAgent(other);
    // The asked device stays silent; the other one answers the probe id it somehow learned.
    askedClient.on('message', (_topic, payload) => {
      const command = decodeCommand(payload);
      if (command.payload !== 'probeRequest') return;
      otherClient.publish(
        `sag/v1/d/${other.serialNumber}/event`,
        encodeEvent({
          kind: 'PROBE_RESULT',
          probeResult: { probeId: command.probeRequest.probeId, reachable: true },
        }),
        { qos: 1 },
      );
    });
    const res = await probe(asked.gatewayId, { destination: '10.1.0.10', protocol: 'icmp' });
    expect(res.statusCode).toBe(504);
    expect(t.logsWith('probe result for no pending probe ignored')[0]).toMatchObject({
      serialNumber: other.serialNumber,
    });
  });

  it('answers 404 for an unknown gateway and 400 for a destination that is not an address', async () => {
    expect((await probe('sag-nope', { destination: '10.1.0.10', protocol: 'icmp' })).statusCode).toBe(404);
    const device = t.device({ active: true });
    const res = await probe(device.gatewayId, { destination: 'example.com', protocol: 'icmp' });
    expect(res.statusCode).toBe(400);
  });
});
