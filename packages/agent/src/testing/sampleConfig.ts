import type { DeviceConfig } from '../config.js';

/** The Hangzhou branch of the reference scenario, as the broker would push it; for tests. */
export function sampleConfig(overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    revision: 1,
    hash: 'sha256:hz-1',
    gatewayId: 'sag-1a9',
    serialNumber: 'SN-HZ-0001',
    ports: {
      wan: [{ name: 'wan1', mode: 'dhcp' }],
      lan: [
        {
          name: 'lan1',
          address: '172.16.0.1/24',
          dhcp: { start: '172.16.0.100', end: '172.16.0.200', leaseMinutes: 720 },
        },
      ],
    },
    privateCidrs: ['172.16.0.0/16'],
    tunnels: [
      { accessPoint: 'ap-sh-1', address: '127.0.0.1:7000', role: 'active' },
      { accessPoint: 'ap-sh-2', address: '127.0.0.1:7001', role: 'standby' },
    ],
    keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
    routes: [
      { destination: '10.1.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-sh', sourceKind: 'vpc' },
      { destination: '10.2.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-bj', sourceKind: 'vpc' },
      { destination: '172.17.0.0/16', nextHop: 'tunnel', sourceResourceId: 'sag-8f2', sourceKind: 'gateway' },
    ],
    aclRules: [
      {
        id: 'aclr-1',
        name: 'deny ssh',
        direction: 'out',
        policy: 'drop',
        priority: 1,
        protocol: 'tcp',
        sourceCidr: '0.0.0.0/0',
        sourcePortRange: '-1/-1',
        destCidr: '10.1.0.0/16',
        destPortRange: '22/22',
      },
    ],
    aclId: 'acl-1',
    ...overrides,
  };
}

const GATEWAY_KEY = `${'A'.repeat(43)}=`;

/**
 * The Shanghai access point of the reference scenario, as the broker would push it: no ports,
 * tunnels, routes or ACL, and an `edge` section (WireGuard on the probe port 51820 + 1).
 */
export function sampleEdgeConfig(overrides: Partial<DeviceConfig> = {}): DeviceConfig {
  return {
    revision: 1,
    hash: 'sha256:ap-1',
    gatewayId: 'ap-edge-a',
    serialNumber: 'SN-AP-0001',
    ports: { wan: [], lan: [] },
    privateCidrs: [],
    tunnels: [],
    keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
    routes: [],
    aclRules: [],
    aclId: null,
    edge: {
      listenPort: 51821,
      peers: [
        {
          gatewayId: 'sag-1a9',
          publicKey: GATEWAY_KEY,
          allowedIps: ['172.16.0.0/16'],
          routeSet: 'routes-1',
        },
      ],
      routeSets: [{ id: 'routes-1', destinations: ['10.1.0.0/16', '10.2.0.0/16'] }],
      vpcs: [
        { vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'] },
        { vpcId: 'vpc-bj', cidrBlocks: ['10.2.0.0/16'] },
      ],
      instances: [
        { instanceId: 'i-web', privateIp: '10.1.0.10', securityGroupIds: ['sg-web'] },
        { instanceId: 'i-db', privateIp: '10.2.0.20', securityGroupIds: ['sg-web'] },
      ],
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
    },
    ...overrides,
  };
}
