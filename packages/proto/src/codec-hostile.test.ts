import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import { isProtocolError, type ProtocolError, type ProtocolErrorCode } from './errors.js';
import { opensag } from './gen/messages.js';
import * as sample from './messages.fixtures.js';
import { LIMITS } from './validation.js';

const { Hello, Report, DesiredConfig, Ack } = opensag.v1;

/** Every decoder with a valid encoding of its message, for the input-agnostic checks. */
const decoders: [string, (bytes: Uint8Array) => unknown, Buffer][] = [
  ['Hello', decodeHello, encodeHello(sample.hello)],
  ['Report', decodeReport, encodeReport(sample.report)],
  ['Ack', decodeAck, encodeAck(sample.ack)],
  ['Event', decodeEvent, encodeEvent(sample.probeEvent)],
  ['Presence', decodePresence, encodePresence(sample.presence)],
  ['ProbeResult', decodeProbeResult, encodeProbeResult(sample.probeResult)],
  ['DesiredConfig', decodeDesiredConfig, encodeDesiredConfig(sample.desiredConfig)],
  [
    'Command',
    decodeCommand,
    encodeCommand({ commandId: 'c', probeRequest: sample.commands[1].probeRequest }),
  ],
];

function errorOf(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    if (isProtocolError(error)) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError, got none');
}

function expectCode(run: () => unknown, code: ProtocolErrorCode, field?: string): void {
  const error = errorOf(run);
  expect(error.code).toBe(code);
  if (field !== undefined) expect(error.field).toBe(field);
}

/** Encodes with the generated code directly, skipping the codec's own checks. */
function craftHello(fields: Record<string, unknown>): Uint8Array {
  return Hello.encode(Hello.fromObject({ schemaVersion: 1, ...sample.hello, ...fields })).finish();
}

describe('garbage and broken buffers', () => {
  it.each(decoders)('%s: refuses bytes that are not a message', (_, decode) => {
    expectCode(
      () => decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      'MALFORMED',
    );
  });

  it.each(decoders)('%s: refuses a buffer cut inside its last field', (_, decode, bytes) => {
    expectCode(() => decode(bytes.subarray(0, bytes.length - 1)), 'MALFORMED');
  });

  it.each(decoders)('%s: every truncation decodes or fails with a ProtocolError', (_, decode, bytes) => {
    for (let end = 0; end < bytes.length; end++) {
      try {
        decode(bytes.subarray(0, end));
      } catch (error) {
        expect(isProtocolError(error), `cut at ${end}: ${String(error)}`).toBe(true);
      }
    }
  });

  it.each(decoders)('%s: refuses a payload over the size limit before decoding it', (_, decode) => {
    expectCode(() => decode(Buffer.alloc(LIMITS.maxPayloadBytes + 1)), 'TOO_LARGE');
  });

  it('refuses a payload that is not bytes', () => {
    expectCode(() => decodeHello('hello' as never), 'MALFORMED');
    expectCode(() => decodeHello(null as never), 'MALFORMED');
  });

  it('refuses invalid wire types 6 and 7', () => {
    expectCode(() => decodeHello(Buffer.from([0x08, 0x01, 0x16, 0x00])), 'MALFORMED');
    expectCode(() => decodeHello(Buffer.from([0x08, 0x01, 0x17, 0x00])), 'MALFORMED');
  });

  it('refuses a group that is never closed', () => {
    expectCode(() => decodeHello(Buffer.from([0x08, 0x01, 0x5b, 0x08, 0x01])), 'MALFORMED');
  });

  it('refuses a string that is not UTF-8', () => {
    expectCode(() => decodeHello(Buffer.from([0x08, 0x01, 0x3a, 0x02, 0xff, 0xfe])), 'MALFORMED');
  });
});

describe('known fields sent with the wrong wire type are never taken as values', () => {
  it('a schema_version sent length-delimited leaves the message unversioned', () => {
    expectCode(() => decodePresence(Buffer.from([0x0a, 0x01, 0x01, 0x10, 0x01])), 'UNSUPPORTED_VERSION');
  });

  it('a Hello state sent as a varint leaves the state empty, which is refused', () => {
    const valid = Buffer.from(craftHello({ state: '' }));
    expectCode(
      () => decodeHello(Buffer.concat([valid, Buffer.from([0x38, 0x01])])),
      'INVALID_FIELD',
      'state',
    );
  });

  it('Report counters sent as fixed64 count as missing', () => {
    const bytes = Report.encode(
      Report.fromObject({ schemaVersion: 1, ...sample.report, counters: null }),
    ).finish();
    const wrong = Buffer.concat([bytes, Buffer.from([0x29, 1, 2, 3, 4, 5, 6, 7, 8])]);
    expectCode(() => decodeReport(wrong), 'INVALID_FIELD', 'counters');
  });
});

describe('schema version', () => {
  it('refuses a message without a version', () => {
    expectCode(
      () => decodeAck(Ack.encode(Ack.fromObject({ ...sample.ack })).finish()),
      'UNSUPPORTED_VERSION',
    );
    expectCode(() => decodeAck(new Uint8Array(0)), 'UNSUPPORTED_VERSION');
  });

  it('refuses a version newer than this side reads, naming it', () => {
    const bytes = Ack.encode(Ack.fromObject({ ...sample.ack, schemaVersion: 2 })).finish();
    const error = errorOf(() => decodeAck(bytes));
    expect(error.code).toBe('UNSUPPORTED_VERSION');
    expect(error.message).toContain('schema version 2');
  });
});

describe('bounds', () => {
  it('refuses a string over the limit, naming the field', () => {
    const long = 'x'.repeat(LIMITS.maxStringLength + 1);
    expectCode(() => decodeHello(craftHello({ model: long })), 'INVALID_FIELD', 'model');
    const ports = [{ ...sample.hello.ports[0] }, { ...sample.hello.ports[1], error: long }];
    expectCode(() => decodeHello(craftHello({ ports })), 'INVALID_FIELD', 'ports[1].error');
  });

  it('accepts a string exactly at the limit', () => {
    const model = 'x'.repeat(LIMITS.maxStringLength);
    expect(decodeHello(craftHello({ model })).model).toBe(model);
  });

  it('refuses a repeated field over the limit, naming it', () => {
    const privateCidrs = Array.from({ length: LIMITS.maxRepeated + 1 }, () => '10.0.0.0/8');
    const bytes = DesiredConfig.encode(
      DesiredConfig.fromObject({ schemaVersion: 1, ...sample.desiredConfig, privateCidrs }),
    ).finish();
    expectCode(() => decodeDesiredConfig(bytes), 'INVALID_FIELD', 'privateCidrs');
  });

  it('refuses proto enum values it does not know, and the unspecified zero', () => {
    expectCode(
      () => decodeAck(Ack.encode({ schemaVersion: 1, result: 9 }).finish()),
      'INVALID_FIELD',
      'result',
    );
    expectCode(
      () => decodeAck(Ack.encode({ schemaVersion: 1, result: 0 }).finish()),
      'INVALID_FIELD',
      'result',
    );
  });

  it('refuses enum-like strings outside the API values', () => {
    expectCode(() => decodeHello(craftHello({ role: 'router' })), 'INVALID_FIELD', 'role');
    expectCode(() => decodeHello(craftHello({ dataplane: 'Linux' })), 'INVALID_FIELD', 'dataplane');
  });
});

describe('hostile values pollute nothing', () => {
  let prototypeNames: string[];
  beforeEach(() => {
    prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();
  });
  afterEach(() => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('carries __proto__ and constructor as plain string values', () => {
    const hostile = {
      ...sample.hello,
      agentVersion: '__proto__',
      model: 'constructor',
      appliedHash: 'prototype',
    };
    const decoded = decodeHello(encodeHello(hostile));
    expect(decoded.agentVersion).toBe('__proto__');
    expect(decoded.model).toBe('constructor');
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it('ignores __proto__ and constructor keys in what it is asked to encode', () => {
    const input = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "state": "OFFLINE"}',
    );
    const decoded = decodePresence(encodePresence(input));
    expect(decoded).toEqual({ schemaVersion: 1, state: 'OFFLINE' });
    expect(Object.hasOwn(decoded, '__proto__')).toBe(false);
  });

  it('drops unknown fields, whatever they spell', () => {
    const hostile = Buffer.from('{"__proto__":{"polluted":true}}');
    const unknown = Buffer.concat([Buffer.from([0xfa, 0x07, hostile.length]), hostile]);
    const decoded = decodeHello(Buffer.concat([craftHello({}), unknown]));
    expect(decoded).toEqual({ schemaVersion: 1, ...sample.hello });
    expect(Object.getOwnPropertyNames(decoded)).not.toContain('$unknowns');
  });
});

describe('random input', () => {
  const onlyProtocolErrors = (decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): boolean => {
    try {
      decode(bytes);
      return true;
    } catch (error) {
      return isProtocolError(error);
    }
  };

  it.each(decoders)('%s: random bytes decode or fail with a ProtocolError, nothing else', (_, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => onlyProtocolErrors(decode, bytes)),
      { numRuns: 300 },
    );
  });

  it.each(decoders)(
    '%s: a valid message with random bytes changed fails only with ProtocolError',
    (_, decode, valid) => {
      const edit = fc.record({ at: fc.nat(valid.length - 1), value: fc.integer({ min: 0, max: 255 }) });
      fc.assert(
        fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
          const bytes = Buffer.from(valid);
          for (const { at, value } of edits) bytes[at] = value;
          return onlyProtocolErrors(decode, bytes);
        }),
        { numRuns: 300 },
      );
    },
  );
});
