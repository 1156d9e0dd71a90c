import type {
  Ack,
  Command,
  DesiredConfig,
  Event,
  Hello,
  PortStatus,
  Presence,
  ProbeResult,
  Report,
} from './messages.js';

/** Fully populated sample messages (as decoded, minus the version stamp) for the codec tests. */
type Sample<T> = Omit<T, 'schemaVersion'>;

const ports: PortStatus[] = [
  { name: 'wan0', kind: 'wan', state: 'up', address: '192.0.2.10/24', mode: 'dhcp', error: '' },
  { name: 'lan0', kind: 'lan', state: 'down', address: '172.16.0.1/24', mode: '', error: 'no carrier' },
];

export const hello: Sample<Hello> = {
  agentVersion: '0.1.0',
  model: 'sag-100wm',
  appliedRevision: 7,
  appliedHash: 'sha256:9f86d081884c7d65',
  ports,
  state: 'running',
  dataplane: 'emulated',
  role: 'branch',
  tunnelPublicKey: 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=',
};

export const report: Sample<Report> = {
  appliedRevision: 7,
  tunnels: [
    {
      accessPoint: 'ap-shanghai-1',
      address: '127.0.0.1:7001',
      role: 'active',
      state: 'down',
      carryingTraffic: false,
      rttMs: 0,
      lossPct: 100,
      jitterMs: 0,
      probesSent: 1200,
      probesLost: 30,
    },
    {
      accessPoint: 'ap-shanghai-2',
      address: '127.0.0.1:7002',
      role: 'standby',
      state: 'up',
      carryingTraffic: true,
      rttMs: 12.5,
      lossPct: 0.25,
      jitterMs: 1.75,
      probesSent: 1200,
      probesLost: 3,
    },
  ],
  ports,
  counters: { rxPackets: 10, txPackets: 20, rxBytes: 4096, txBytes: 2 ** 40, aclDroppedPackets: 2 },
  uptimeMs: 86_400_000,
};

export const ack: Sample<Ack> = {
  revision: 8,
  hash: 'sha256:60303ae22b998861',
  result: 'ROLLED_BACK',
  error: 'route 10.1.0.0/16: no tunnel is up',
};

export const probeResult: Sample<ProbeResult> = {
  probeId: 'probe-42',
  reachable: true,
  rttMs: 3.25,
  reason: 'tcp/22 answered by 10.1.0.5',
  seenBy: 'SAG100WM-HZ-0001',
};

export const tunnelEvent: Sample<Event> = {
  kind: 'FAILOVER',
  atMs: 1_764_000_000_000,
  accessPoint: 'ap-shanghai-2',
  detail: 'ap-shanghai-1 missed 3 probes',
  probeResult: null,
};

export const probeEvent: Sample<Event> = {
  kind: 'PROBE_RESULT',
  atMs: 1_764_000_000_500,
  accessPoint: '',
  detail: '',
  probeResult: { schemaVersion: 1, ...probeResult },
};

export const presence: Sample<Presence> = { state: 'OFFLINE' };

export const desiredConfig: Sample<DesiredConfig> = {
  revision: 12,
  hash: 'sha256:2c26b46b68ffc68f',
  gatewayId: 'sag-8f2',
  serialNumber: 'SAG100WM-HZ-0001',
  ports: {
    wan: [
      {
        name: 'wan0',
        mode: 'static',
        address: '192.0.2.10/24',
        gateway: '192.0.2.1',
        dns: ['192.0.2.53', '198.51.100.53'],
        priority: 1,
        username: '',
        password: '',
      },
      {
        name: 'wan1',
        mode: 'pppoe',
        address: '',
        gateway: '',
        dns: [],
        priority: 2,
        username: 'hz-branch',
        password: 's3cret',
      },
    ],
    lan: [
      {
        name: 'lan0',
        address: '172.16.0.1/24',
        dhcp: { start: '172.16.0.100', end: '172.16.0.200', leaseMinutes: 720 },
      },
      { name: 'lan1', address: '172.16.1.1/24', dhcp: null },
    ],
  },
  privateCidrs: ['172.16.0.0/16'],
  tunnels: [
    { accessPoint: 'ap-shanghai-1', address: '127.0.0.1:7001', publicKey: '', role: 'active' },
    {
      accessPoint: 'ap-shanghai-2',
      address: '127.0.0.1:7002',
      publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
      role: 'standby',
    },
  ],
  keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
  routes: [
    { destination: '10.1.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-sh1', sourceKind: 'vpc' },
    { destination: '172.17.0.0/16', nextHop: 'tunnel', sourceResourceId: 'sag-1a9', sourceKind: 'gateway' },
  ],
  aclRules: [
    {
      id: 'rule-1',
      name: 'no telnet',
      direction: 'out',
      policy: 'drop',
      priority: 1,
      protocol: 'tcp',
      sourceCidr: '0.0.0.0/0',
      sourcePortRange: '-1/-1',
      destCidr: '10.1.0.0/16',
      destPortRange: '23/23',
    },
  ],
  aclId: 'acl-3c1',
  edge: null,
};

/** An access point's config: no ports, tunnels, routes or ACL; the edge settings instead. */
export const edgeConfig: Sample<DesiredConfig> = {
  revision: 3,
  hash: 'sha256:9b71d224bd62f378',
  gatewayId: 'ap-edge-a',
  serialNumber: 'SAGEDGEA01',
  ports: { wan: [], lan: [] },
  privateCidrs: [],
  tunnels: [],
  keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
  routes: [],
  aclRules: [],
  aclId: '',
  edge: {
    listenPort: 51821,
    peers: [
      {
        gatewayId: 'sag-8f2',
        publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
        allowedIps: ['172.16.0.0/16'],
        routeSet: 'routes-1',
      },
    ],
    vpcs: [{ vpcId: 'vpc-sh1', cidrBlocks: ['10.1.0.0/16'] }],
    instances: [{ instanceId: 'i-sh1', privateIp: '10.1.0.10', securityGroupIds: ['sg-sh1'] }],
    securityGroups: [
      {
        id: 'sg-sh1',
        rules: [
          {
            id: 'sgr-1',
            direction: 'ingress',
            policy: 'accept',
            priority: 1,
            protocol: 'all',
            portRange: '-1/-1',
            cidr: '172.16.0.0/16',
          },
        ],
      },
    ],
    routeSets: [{ id: 'routes-1', destinations: ['10.1.0.0/16', '172.17.0.0/16'] }],
  },
};

export const commands: Sample<Command>[] = [
  {
    commandId: 'cmd-1',
    payload: 'activation',
    activation: { gatewayId: 'sag-8f2', activatedAtMs: 1_764_000_000_000, expiresAtMs: 1_766_592_000_000 },
  },
  {
    commandId: 'cmd-2',
    payload: 'probeRequest',
    probeRequest: {
      probeId: 'probe-42',
      destination: '10.1.0.5',
      protocol: 'tcp',
      port: 22,
      timeoutMs: 2000,
    },
  },
  { commandId: 'cmd-3', payload: 'reboot', reboot: {} },
  { commandId: 'cmd-4', payload: 'resync', resync: {} },
];
