import { describe, expect, it } from 'vitest';
import { isProtocolError } from './errors.js';
import {
  CLOUD_TOPIC_KINDS,
  cloudTopic,
  DEVICE_TOPIC_KINDS,
  deviceTopic,
  isValidSerialNumber,
  parseTopic,
} from './topics.js';

const SN = 'SAG100WM-HZ-0001';

describe('isValidSerialNumber', () => {
  it.each(['ab', 'SAG100WM-HZ-0001', 'sn_1', '0sn', 'a'.repeat(64), 'Constructor', 'TOSTRING'])(
    'accepts %s',
    (serial) => {
      expect(isValidSerialNumber(serial)).toBe(true);
    },
  );

  it.each([
    ['empty', ''],
    ['one character', 'a'],
    ['65 characters', 'a'.repeat(65)],
    ['64 KB', 'a'.repeat(65_536)],
    ['leading underscore', '_sn1'],
    ['leading dash', '-sn1'],
    ['MQTT multi-level wildcard', '#'],
    ['MQTT single-level wildcard', '+'],
    ['wildcard inside', 'sn+1'],
    ['topic separator', 'sn/1'],
    ['space', 'sn 1'],
    ['trailing newline', 'sn1\n'],
    ['NUL', 'sn1\u0000'],
    ['non-ASCII letter', 'snä1'],
    ['$SYS', '$SYS'],
    ['__proto__', '__proto__'],
  ])('refuses %s', (_, serial) => {
    expect(isValidSerialNumber(serial)).toBe(false);
  });

  it('refuses every name of Object.prototype', () => {
    for (const name of Object.getOwnPropertyNames(Object.prototype)) {
      expect(isValidSerialNumber(name), name).toBe(false);
    }
  });

  it.each([undefined, null, 42, {}, ['sn1'], { toString: () => 'sn1' }])(
    'refuses the non-string %j',
    (value) => {
      expect(isValidSerialNumber(value)).toBe(false);
    },
  );
});

describe('deviceTopic and cloudTopic', () => {
  it('build the topics of the protocol table', () => {
    expect(deviceTopic(SN, 'hello')).toBe('sag/v1/d/SAG100WM-HZ-0001/hello');
    expect(deviceTopic(SN, 'presence')).toBe('sag/v1/d/SAG100WM-HZ-0001/presence');
    expect(cloudTopic(SN, 'config')).toBe('sag/v1/c/SAG100WM-HZ-0001/config');
    expect(cloudTopic(SN, 'cmd')).toBe('sag/v1/c/SAG100WM-HZ-0001/cmd');
  });

  it.each(['#', '+', '__proto__', 'constructor', 'a/b', ''])('refuse the serial %j', (serial) => {
    let thrown: unknown;
    try {
      deviceTopic(serial, 'hello');
    } catch (error) {
      thrown = error;
    }
    expect(isProtocolError(thrown) && thrown.code === 'INVALID_FIELD').toBe(true);
    expect(() => cloudTopic(serial, 'cmd')).toThrow(/serial number/);
  });

  it('refuse a kind of the other side', () => {
    expect(() => deviceTopic(SN, 'config' as never)).toThrow(/device topic kind "config"/);
    expect(() => cloudTopic(SN, 'hello' as never)).toThrow(/cloud topic kind "hello"/);
  });
});

describe('parseTopic', () => {
  it('reads back every topic the helpers build', () => {
    for (const kind of DEVICE_TOPIC_KINDS) {
      expect(parseTopic(deviceTopic(SN, kind))).toEqual({ side: 'device', serialNumber: SN, kind });
    }
    for (const kind of CLOUD_TOPIC_KINDS) {
      expect(parseTopic(cloudTopic(SN, kind))).toEqual({ side: 'cloud', serialNumber: SN, kind });
    }
  });

  it.each([
    'sag/v1/d/+/hello',
    'sag/v1/d/#',
    'sag/v1/c/SAG100WM-HZ-0001/#',
    'sag/v1/+/SAG100WM-HZ-0001/hello',
    '#',
    '$SYS/broker/clients',
    'sag/v1/d/SAG100WM-HZ-0001/hello/',
    'sag/v1/d/SAG100WM-HZ-0001/hello/extra',
    '/sag/v1/d/SAG100WM-HZ-0001/hello',
    'sag/v2/d/SAG100WM-HZ-0001/hello',
    'SAG/v1/d/SAG100WM-HZ-0001/hello',
    'sag/v1/d/SAG100WM-HZ-0001/config',
    'sag/v1/c/SAG100WM-HZ-0001/hello',
    'sag/v1/x/SAG100WM-HZ-0001/hello',
    'sag/v1/d/SAG100WM-HZ-0001/Hello',
    'sag/v1/d/__proto__/hello',
    'sag/v1/d/constructor/hello',
    'sag/v1/d/hasOwnProperty/report',
    'sag/v1/d//hello',
    '',
  ])('refuses %j', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('refuses a 64 KB topic and non-strings', () => {
    expect(parseTopic(`sag/v1/d/${'a'.repeat(65_536)}/hello`)).toBeNull();
    expect(parseTopic('/'.repeat(65_536))).toBeNull();
    expect(parseTopic(undefined)).toBeNull();
    expect(parseTopic(Buffer.from('sag/v1/d/SAG100WM-HZ-0001/hello'))).toBeNull();
  });
});
