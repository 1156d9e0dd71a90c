import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aclRule,
  referenceTopology,
  SCENARIO_SETTINGS,
  securityGroupRule,
} from '../testing/referenceTopology.js';
import { compileGatewayConfig } from './gatewayConfig.js';
import { canonicalJson, configHash, nextConfigRecord } from './revision.js';

const T0 = new Date('2025-01-15T00:00:00.000Z');
const T1 = new Date('2025-01-15T00:05:00.000Z');

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null }, e: undefined })).toBe(
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
  });

  it('gives the same text whatever order the keys were built in', () => {
    expect(canonicalJson({ x: 1, y: 'two' })).toBe(canonicalJson({ y: 'two', x: 1 }));
  });

  it('gives the text of the first canonical form, so stored hashes stay valid', () => {
    // The definition hashes have always been computed with; devices echo these hashes back.
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map((item) => reference(item ?? null)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`);
      return `{${members.join(',')}}`;
    };
    const value = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        fc.constant(undefined),
        fc.jsonValue({ maxDepth: 1 }),
        fc.array(tie('any')),
        fc.dictionary(fc.string(), tie('any')),
      ),
    })).any;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
    );
  });

  it('gives a frozen value the same text as an unfrozen copy, also when asked again', () => {
    const route = Object.freeze({ sourceResourceId: 'vpc-1', destination: '10.1.0.0/16', nextHop: 'tunnel' });
    const copy = { ...route };
    expect(canonicalJson([route])).toBe(canonicalJson([copy]));
    expect(canonicalJson({ routes: [route, route] })).toBe(canonicalJson({ routes: [copy, copy] }));
  });
});

describe('configHash', () => {
  it('is the sha256 hex of the canonical JSON', () => {
    const config = compileGatewayConfig(referenceTopology(), 'sag-hz', SCENARIO_SETTINGS);
    const expected = createHash('sha256').update(canonicalJson(config)).digest('hex');
    expect(configHash(config)).toBe(expected);
    expect(configHash(config)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs between gateways and stays equal for equal content', () => {
    const topology = referenceTopology();
    const hz = compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS);
    expect(configHash(hz)).not.toBe(configHash(compileGatewayConfig(topology, 'sag-nb', SCENARIO_SETTINGS)));
    expect(configHash(hz)).toBe(
      configHash(compileGatewayConfig(referenceTopology(), 'sag-hz', SCENARIO_SETTINGS)),
    );
  });
});

describe('nextConfigRecord', () => {
  it('starts at revision 1', () => {
    const config = compileGatewayConfig(referenceTopology(), 'sag-hz', SCENARIO_SETTINGS);
    expect(nextConfigRecord(undefined, config, T0)).toEqual({
      gatewayId: 'sag-hz',
      revision: 1,
      hash: configHash(config),
      config,
      compiledAt: '2025-01-15T00:00:00.000Z',
    });
  });

  it('bumps the revision only when the content changes', () => {
    const topology = referenceTopology();
    const first = nextConfigRecord(
      undefined,
      compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS),
      T0,
    )!;

    // A security-group rule is cloud-side: Hangzhou's config is the same, so no new revision.
    const sg = topology.securityGroups.get('sg-sh')!;
    topology.securityGroups.set('sg-sh', {
      ...sg,
      rules: [securityGroupRule({ id: 'sgr-1', cidr: '172.16.0.0/16' })],
    });
    expect(
      nextConfigRecord(first, compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS), T1),
    ).toBeNull();

    // An ACL rule on the gateway's ACL is content: revision 2.
    const aclBefore = topology.acls.get('acl-branch')!;
    topology.acls.set('acl-branch', { ...aclBefore, rules: [aclRule({ id: 'acl-rule-1', policy: 'drop' })] });
    topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, aclId: 'acl-branch' });
    const second = nextConfigRecord(first, compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS), T1);
    expect(second).toMatchObject({
      gatewayId: 'sag-hz',
      revision: 2,
      compiledAt: '2025-01-15T00:05:00.000Z',
    });
    expect(second!.hash).not.toBe(first.hash);

    // Recompiling the same state again changes nothing.
    expect(
      nextConfigRecord(second!, compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS), T1),
    ).toBeNull();
  });

  it('continues from a stored revision', () => {
    const config = compileGatewayConfig(referenceTopology(), 'sag-hz', SCENARIO_SETTINGS);
    const stored = {
      gatewayId: 'sag-hz',
      revision: 41,
      hash: 'old',
      config: {},
      compiledAt: T0.toISOString(),
    };
    expect(nextConfigRecord(stored, config, T1)?.revision).toBe(42);
  });
});
