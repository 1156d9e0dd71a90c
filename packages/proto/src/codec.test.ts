import { describe, expect, it } from 'vitest';
import {
  decodeAck,
  decodeCommand,
  decodeDesiredConfig,
  decodeEvent,
  decodeHello,
  decodePresence,
  decodeProbeResult,
  decodeReport,
  encodeAck,
  encodeCommand,
  encodeDesiredConfig,
  encodeEvent,
  encodeHello,
  encodePresence,
  encodeProbeResult,
  encodeReport,
} from './codec.js';
import { isProtocolError, type ProtocolError } from './errors.js';
import * as sample from './messages.fixtures.js';
import { SCHEMA_VERSION } from './messages.js';

function protocolErrorOf(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    if (isProtocolError(error)) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError, got none');
}

describe('round trip', () => {
  it('keeps every field of a Hello', () => {
    expect(decodeHello(encodeHello(sample.hello))).toEqual({ schemaVersion: 1, ...sample.hello });
  });

  it('keeps every field of a Report, 64-bit counters as numbers', () => {
    const decoded = decodeReport(encodeReport(sample.report));
    expect(decoded).toEqual({ schemaVersion: 1, ...sample.report });
    expect(typeof decoded.counters.txBytes).toBe('number');
  });

  it('keeps every field of an Ack, the result by name', () => {
    expect(decodeAck(encodeAck(sample.ack))).toEqual({ schemaVersion: 1, ...sample.ack });
  });

  it('keeps a tunnel Event without a probe result as null', () => {
    expect(decodeEvent(encodeEvent(sample.tunnelEvent))).toEqual({ schemaVersion: 1, ...sample.tunnelEvent });
  });

  it('keeps a PROBE_RESULT Event, stamping the embedded result too', () => {
    const { schemaVersion: _, ...unstamped } = sample.probeEvent.probeResult!;
    const decoded = decodeEvent(encodeEvent({ ...sample.probeEvent, probeResult: unstamped }));
    expect(decoded).toEqual({ schemaVersion: 1, ...sample.probeEvent });
  });

  it('keeps a Presence and a ProbeResult', () => {
    expect(decodePresence(encodePresence(sample.presence))).toEqual({ schemaVersion: 1, state: 'OFFLINE' });
    expect(decodeProbeResult(encodeProbeResult(sample.probeResult))).toEqual({
      schemaVersion: 1,
      ...sample.probeResult,
    });
  });

  it('keeps every field of a DesiredConfig, a LAN port without DHCP as null', () => {
    const decoded = decodeDesiredConfig(encodeDesiredConfig(sample.desiredConfig));
    expect(decoded).toEqual({ schemaVersion: 1, ...sample.desiredConfig });
    expect(decoded.ports.lan[1].dhcp).toBeNull();
  });

  it('keeps every field of an access point config, its edge settings included', () => {
    const decoded = decodeDesiredConfig(encodeDesiredConfig(sample.edgeConfig));
    expect(decoded).toEqual({ schemaVersion: 1, ...sample.edgeConfig });
  });

  it.each(sample.commands)('keeps a Command carrying $payload', (command) => {
    const { payload: _, ...input } = command;
    expect(decodeCommand(encodeCommand(input as Parameters<typeof encodeCommand>[0]))).toEqual({
      schemaVersion: 1,
      ...command,
    });
  });

  it('stamps the current schema version whatever the caller passes', () => {
    const bytes = encodePresence({ state: 'ONLINE', schemaVersion: 99 } as never);
    expect(decodePresence(bytes).schemaVersion).toBe(SCHEMA_VERSION);
  });

  it('returns plain objects with nothing but the message fields', () => {
    const decoded = decodeHello(encodeHello(sample.hello));
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded).sort()).toEqual(['schemaVersion', ...Object.keys(sample.hello)].sort());
    expect(Object.getPrototypeOf(decoded.ports[0])).toBe(Object.prototype);
  });

  it('encodes to a Buffer that MQTT clients publish as is', () => {
    expect(Buffer.isBuffer(encodeAck(sample.ack))).toBe(true);
  });
});

describe('encoding refuses what the peer would refuse', () => {
  it('names the ACL rule field with an unknown direction', () => {
    const rules = [{ ...sample.desiredConfig.aclRules[0], direction: 'sideways' }];
    const error = protocolErrorOf(() =>
      encodeDesiredConfig({ ...sample.desiredConfig, aclRules: rules } as never),
    );
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toBe('aclRules[0].direction');
    expect(error.message).toContain('"sideways"');
    expect(error.message).toContain('in, out');
  });

  it('refuses a malformed ACL port range, which would otherwise never match', () => {
    const rules = [{ ...sample.desiredConfig.aclRules[0], destPortRange: '23-25' }];
    const error = protocolErrorOf(() => encodeDesiredConfig({ ...sample.desiredConfig, aclRules: rules }));
    expect(error.field).toBe('aclRules[0].destPortRange');
  });

  it('names the security-group rule field an access point would refuse', () => {
    const edge = sample.edgeConfig.edge as NonNullable<typeof sample.edgeConfig.edge>;
    const rule = { ...edge.securityGroups[0].rules[0], direction: 'inbound' };
    const groups = [{ id: 'sg-sh1', rules: [rule] }];
    const error = protocolErrorOf(() =>
      encodeDesiredConfig({ ...sample.edgeConfig, edge: { ...edge, securityGroups: groups } } as never),
    );
    expect(error.field).toBe('edge.securityGroups[0].rules[0].direction');
    expect(error.message).toContain('ingress, egress');
    const badRange = [{ id: 'sg-sh1', rules: [{ ...rule, direction: 'ingress', portRange: '80' }] }];
    expect(
      protocolErrorOf(() =>
        encodeDesiredConfig({ ...sample.edgeConfig, edge: { ...edge, securityGroups: badRange } } as never),
      ).field,
    ).toBe('edge.securityGroups[0].rules[0].portRange');
    expect(
      protocolErrorOf(() => encodeDesiredConfig({ ...sample.edgeConfig, edge: { ...edge, listenPort: 0 } }))
        .field,
    ).toBe('edge.listenPort');
  });

  it('refuses a config without keepalive settings or with a zero interval', () => {
    expect(
      protocolErrorOf(() => encodeDesiredConfig({ ...sample.desiredConfig, keepalive: null })).field,
    ).toBe('keepalive');
    const keepalive = { ...sample.desiredConfig.keepalive, intervalMs: 0 };
    expect(protocolErrorOf(() => encodeDesiredConfig({ ...sample.desiredConfig, keepalive })).field).toBe(
      'keepalive.intervalMs',
    );
  });

  it('refuses a config with revision 0', () => {
    expect(protocolErrorOf(() => encodeDesiredConfig({ ...sample.desiredConfig, revision: 0 })).field).toBe(
      'revision',
    );
  });

  it('refuses an Ack without a result and a Presence without a state', () => {
    expect(protocolErrorOf(() => encodeAck({ revision: 3 })).field).toBe('result');
    expect(protocolErrorOf(() => encodePresence({})).field).toBe('state');
  });

  it('refuses a PROBE_RESULT event without its result and a tunnel event without its access point', () => {
    expect(protocolErrorOf(() => encodeEvent({ ...sample.probeEvent, probeResult: null })).field).toBe(
      'probeResult',
    );
    expect(protocolErrorOf(() => encodeEvent({ ...sample.tunnelEvent, accessPoint: '' })).field).toBe(
      'accessPoint',
    );
  });

  it('refuses a Command without a payload', () => {
    const error = protocolErrorOf(() => encodeCommand({ commandId: 'cmd-9' } as never));
    expect(error.field).toBe('payload');
  });

  it('refuses a tunnel loss outside 0–100 and a NaN round-trip time', () => {
    const lossy = { ...sample.report.tunnels[0], lossPct: 101 };
    expect(protocolErrorOf(() => encodeReport({ ...sample.report, tunnels: [lossy] })).field).toBe(
      'tunnels[0].lossPct',
    );
    const nan = { ...sample.report.tunnels[0], rttMs: Number.NaN };
    expect(protocolErrorOf(() => encodeReport({ ...sample.report, tunnels: [nan] })).field).toBe(
      'tunnels[0].rttMs',
    );
  });

  it('refuses a revision past 2^53, which a number cannot carry exactly', () => {
    const error = protocolErrorOf(() => encodeAck({ ...sample.ack, revision: 2 ** 60 }));
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toBe('revision');
  });

  it('refuses a value of the wrong type with INVALID_FIELD', () => {
    const error = protocolErrorOf(() => encodeHello({ ...sample.hello, ports: 'wan0' } as never));
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.message).toContain('Hello');
  });
});
