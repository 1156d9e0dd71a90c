import { createHash } from 'node:crypto';
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
