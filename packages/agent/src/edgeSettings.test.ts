import { describe, expect, it } from 'vitest';
import { type DeviceConfig, validateDeviceConfig } from './config.js';
import { sampleConfig, sampleEdgeConfig } from './testing/sampleConfig.js';

const edgeRules = { role: 'edge' as const, probePort: 51820 };

function edgeErrors(mutate: (config: DeviceConfig) => void): string[] {
  const config = structuredClone(sampleEdgeConfig());
  mutate(config);
  return validateDeviceConfig(config, edgeRules);
}

describe('validateDeviceConfig by role', () => {
  it('accepts an access point config (no ports, tunnels, routes or ACL) in the edge role', () => {
    expect(validateDeviceConfig(sampleEdgeConfig(), edgeRules)).toEqual([]);
    expect(validateDeviceConfig(sampleEdgeConfig(), { role: 'edge' })).toEqual([]);
  });

  it('refuses an access point config in the branch role, saying why', () => {
    expect(validateDeviceConfig(sampleEdgeConfig({ tunnels: sampleConfig().tunnels }))).toEqual([
      'edge: this device runs in the branch role, and this config (with an edge section) is for an access point; run the access point with --role edge',
    ]);
  });

  it('refuses a branch config in the edge role, naming every field an access point does not have', () => {
    expect(validateDeviceConfig(sampleConfig(), edgeRules)).toEqual([
      'edge: missing; this device runs in the edge role (an access point) and this config is for a branch gateway',
      "ports.wan: an access point (edge role) has none, found 1; these belong in a branch gateway's config",
      "ports.lan: an access point (edge role) has none, found 1; these belong in a branch gateway's config",
      "privateCidrs: an access point (edge role) has none, found 1; these belong in a branch gateway's config",
      "tunnels: an access point (edge role) has none, found 2; these belong in a branch gateway's config",
      "routes: an access point (edge role) has none, found 3; these belong in a branch gateway's config",
      "aclRules: an access point (edge role) has none, found 1; these belong in a branch gateway's config",
    ]);
  });

  it('checks the edge section with the edge rules, each error naming its field under edge.', () => {
    const errors = edgeErrors((c) => {
      const edge = c.edge as NonNullable<DeviceConfig['edge']>;
      edge.peers[0].publicKey = 'not-a-key';
      edge.vpcs[1].cidrBlocks = ['10.2.0.1/16'];
      edge.instances[0].securityGroupIds = ['sg-gone'];
      edge.securityGroups[0].rules[0].priority = 0;
    });
    expect(errors).toEqual([
      'edge.peers[0] (gateway sag-1a9).publicKey is not a base64 WireGuard key',
      'edge.vpcs[1] (vpc vpc-bj).cidrBlocks[0] "10.2.0.1/16" is not a canonical IPv4 CIDR block',
      'edge.instances[0] (instance i-web).securityGroupIds names sg-gone, which is not in securityGroups',
      "edge.instances[1] (instance i-db).privateIp 10.2.0.20 is in no VPC's cidrBlocks",
      'edge.securityGroups[0] (sg-web).rules[0] (sgr-ssh).priority 0 is not an integer from 1 to 100',
    ]);
  });

  it('wants the WireGuard port to be the probe port + 1, which is where gateways dial', () => {
    expect(edgeErrors((c) => ((c.edge as { listenPort: number }).listenPort = 51820))).toEqual([
      'edge.listenPort 51820 is not 51821: this access point answers probes on port 51820, and gateways dial its WireGuard at the probe port + 1',
    ]);
  });

  it('reports the shape of a damaged edge section instead of throwing', () => {
    expect(edgeErrors((c) => Object.assign(c, { edge: 'yes' }))).toEqual(['edge: not an object']);
    expect(
      edgeErrors((c) =>
        Object.assign(c, {
          edge: { listenPort: '1', peers: [{ gatewayId: 1 }], vpcs: {}, instances: [], securityGroups: [{}] },
        }),
      ),
    ).toEqual([
      'edge.listenPort: not a number',
      'edge.peers[0].gatewayId: not text',
      'edge.peers[0].publicKey: not text',
      'edge.peers[0].allowedIps: not a list of text',
      'edge.vpcs: not a list',
      'edge.securityGroups[0].id: not text',
      'edge.securityGroups[0].rules: not a list',
    ]);
    expect(edgeErrors((c) => Object.assign(c, { edge: null }))[0]).toMatch(/^edge: missing/);
  });
});
