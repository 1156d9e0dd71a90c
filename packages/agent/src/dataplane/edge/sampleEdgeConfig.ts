import type { EdgeConfig } from './edgeConfig.js';

const KEY_A = `${'A'.repeat(43)}=`;
const KEY_B = `${'B'.repeat(43)}=`;

/** A valid edge config for tests: two branch gateways, one VPC, one instance allowing ssh from Hangzhou. */
export function edgeConfig(overrides: Partial<EdgeConfig> = {}): EdgeConfig {
  return {
    listenPort: 7001,
    peers: [
      { gatewayId: 'sag-hz', publicKey: KEY_A, allowedIps: ['172.16.0.0/16'] },
      { gatewayId: 'sag-nb', publicKey: KEY_B, allowedIps: ['192.168.10.0/24'] },
    ],
    vpcs: [{ vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'], interface: 'vpc0' }],
    instances: [{ instanceId: 'i-web', privateIp: '10.1.0.10', securityGroupIds: ['sg-web'] }],
    securityGroups: [
      {
        id: 'sg-web',
        rules: [
          {
            id: 'sgr-ssh',
            direction: 'ingress',
            policy: 'accept',
            priority: 1,
            protocol: 'tcp',
            portRange: '22/22',
            cidr: '172.16.0.0/16',
          },
        ],
      },
    ],
    ...overrides,
  };
}
