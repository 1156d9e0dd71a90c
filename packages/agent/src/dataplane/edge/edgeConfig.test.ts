import { describe, expect, it } from 'vitest';
import { validateEdgeConfig, vpcOfAddress } from './edgeConfig.js';
import { edgeConfig } from './sampleEdgeConfig.js';

const KEY_A = `${'A'.repeat(43)}=`;
const KEY_B = `${'B'.repeat(43)}=`;

describe('validateEdgeConfig', () => {
  it('accepts a well-formed config', () => {
    expect(validateEdgeConfig(edgeConfig())).toEqual([]);
  });

  it('names the field of every problem', () => {
    const base = edgeConfig();
    const errors = validateEdgeConfig({
      listenPort: 70000,
      peers: [
        { gatewayId: 'sag-hz', publicKey: 'short', allowedIps: ['172.16.0.0/16'] },
        { gatewayId: 'sag-nb', publicKey: KEY_B, allowedIps: ['172.16.4.0/24', '10.0.0.1/8'] },
      ],
      vpcs: [{ vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'], interface: 'a name too long for linux' }],
      instances: [
        { instanceId: 'i-web', privateIp: '10.9.0.1', securityGroupIds: ['sg-web', 'sg-web', 'sg-x'] },
        { instanceId: 'i-db', privateIp: '10.9.0.1', securityGroupIds: [] },
      ],
      securityGroups: [
        {
          id: 'sg-web',
          rules: [{ ...base.securityGroups[0].rules[0], priority: 0, portRange: '9/1', cidr: '1.2.3.4/8' }],
        },
      ],
    });
    expect(errors).toEqual([
      'listenPort 70000 is not a port from 1 to 65535',
      'peers[0] (gateway sag-hz).publicKey is not a base64 WireGuard key',
      'peers[1] (gateway sag-nb).allowedIps[1] "10.0.0.1/8" is not a canonical IPv4 CIDR block',
      'peers[1] (gateway sag-nb).allowedIps 172.16.4.0/24 overlaps 172.16.0.0/16 of gateway sag-hz',
      'vpcs[0] (vpc vpc-sh).interface "a name too long for linux" is not an interface name',
      "instances[0] (instance i-web).privateIp 10.9.0.1 is in no VPC's cidrBlocks",
      'instances[0] (instance i-web).securityGroupIds lists a group twice',
      'instances[0] (instance i-web).securityGroupIds names sg-x, which is not in securityGroups',
      "instances[1] (instance i-db).privateIp 10.9.0.1 is in no VPC's cidrBlocks",
      'instances[1] (instance i-db).privateIp 10.9.0.1 is also the address of instance i-web',
      'instances[1] (instance i-db).securityGroupIds has 0 groups, want 1 to 5',
      'securityGroups[0] (sg-web).rules[0] (sgr-ssh).priority 0 is not an integer from 1 to 100',
      'securityGroups[0] (sg-web).rules[0] (sgr-ssh).portRange 9/1 is not a/b or -1/-1',
      'securityGroups[0] (sg-web).rules[0] (sgr-ssh).cidr 1.2.3.4/8 is not a canonical IPv4 CIDR block',
    ]);
  });

  it('rejects one key for two gateways', () => {
    const config = edgeConfig();
    config.peers[1].publicKey = KEY_A;
    expect(validateEdgeConfig(config)).toEqual([
      'peers[1] (gateway sag-nb).publicKey is also the key of gateway sag-hz',
    ]);
  });

  it('finds the VPC that holds an address', () => {
    expect(vpcOfAddress(edgeConfig(), '10.1.200.3')?.vpcId).toBe('vpc-sh');
    expect(vpcOfAddress(edgeConfig(), '10.2.0.1')).toBeUndefined();
  });
});
