import { decodeDesiredConfig, encodeDesiredConfig } from '@opensag/proto';
import { describe, expect, it } from 'vitest';
import { type DeviceConfig, validateDeviceConfig } from '../config.js';
import { sampleConfig, sampleEdgeConfig } from '../testing/sampleConfig.js';
import { deviceConfigFromDesired } from './desiredConfig.js';
import { peekRevision } from './wirePeek.js';

const overTheWire = (config: DeviceConfig) =>
  deviceConfigFromDesired(decodeDesiredConfig(encodeDesiredConfig(config)));

describe('deviceConfigFromDesired', () => {
  it('gives back the config the broker compiled, field for field', () => {
    const config = sampleConfig();
    const mapped = overTheWire(config);
    expect(mapped).toEqual(config);
    expect(validateDeviceConfig(mapped)).toEqual([]);
  });

  it('turns protobuf defaults back into absent fields and null ids', () => {
    const config = sampleConfig({
      serialNumber: null,
      aclId: null,
      aclRules: [],
      ports: {
        wan: [
          {
            name: 'wan1',
            mode: 'static',
            address: '192.0.2.10/24',
            gateway: '192.0.2.1',
            dns: ['223.5.5.5'],
            priority: 2,
          },
          { name: 'wan2', mode: 'pppoe', username: 'hz', password: 'secret' },
        ],
        lan: [{ name: 'lan1', address: '172.16.0.1/24' }],
      },
      tunnels: [{ accessPoint: 'ap-sh-1', address: '127.0.0.1:7000', publicKey: 'wg-key', role: 'active' }],
    });
    const mapped = overTheWire(config);
    expect(mapped).toEqual(config);
    expect(mapped.ports.lan[0]).not.toHaveProperty('dhcp');
    expect(mapped.ports.wan[1]).not.toHaveProperty('address');
    expect(mapped.serialNumber).toBeNull();
    expect(mapped.aclId).toBeNull();
  });

  it('keeps ACL rules in the order they arrived and drops empty names', () => {
    const rule = sampleConfig().aclRules[0];
    const config = sampleConfig({
      aclRules: [
        { ...rule, id: 'aclr-2', priority: 5, name: undefined },
        { ...rule, id: 'aclr-1', priority: 1 },
      ],
    });
    const mapped = overTheWire(config);
    expect(mapped.aclRules.map((r) => r.id)).toEqual(['aclr-2', 'aclr-1']);
    expect(mapped.aclRules[0]).not.toHaveProperty('name');
  });
});

describe('peekRevision', () => {
  it('reads revision and hash from a DesiredConfig', () => {
    expect(peekRevision(encodeDesiredConfig(sampleConfig({ revision: 42, hash: 'sha256:x' })))).toEqual({
      revision: 42,
      hash: 'sha256:x',
    });
  });

  it('returns null for bytes that are not protobuf or carry no revision', () => {
    expect(peekRevision(Buffer.from([0xff, 0xff, 0xff]))).toBeNull();
    expect(peekRevision(Buffer.from([0x1a, 0x10, 0x41]))).toBeNull();
    expect(peekRevision(Buffer.from([0x08, 0x01]))).toBeNull();
    expect(peekRevision(new Uint8Array(0))).toBeNull();
  });
});

describe('deviceConfigFromDesired for an access point', () => {
  it('carries the edge section over the wire, field for field', () => {
    const config = sampleEdgeConfig();
    const message = decodeDesiredConfig(encodeDesiredConfig(config));
    expect(message.edge).not.toBeNull();
    const mapped = deviceConfigFromDesired(message);
    expect(mapped).toEqual(config);
    expect(validateDeviceConfig(mapped, { role: 'edge', probePort: 51820 })).toEqual([]);
  });

  it("leaves edge out of a gateway's config (the wire's null)", () => {
    const message = decodeDesiredConfig(encodeDesiredConfig(sampleConfig()));
    expect(message.edge).toBeNull();
    expect(deviceConfigFromDesired(message)).not.toHaveProperty('edge');
  });
});
