import { describe, expect, it } from 'vitest';
import { type AgentStatus, buildStatus, type EdgeStatus } from '../agentStatus.js';
import { formatStatus } from './statusTable.js';

const KEY = `${'A'.repeat(43)}=`;

function edgeStatus(edge: EdgeStatus): AgentStatus {
  return buildStatus({
    serialNumber: 'SN-AP-0001',
    agentState: 'running',
    dataplane: 'linux',
    role: 'edge',
    snapshot: {
      revision: 4,
      hash: 'h4',
      ports: [],
      routes: [
        { destination: '10.1.0.0/16', kind: 'connected', interface: 'vpc0', sourceResourceId: 'vpc-sh' },
        { destination: '172.16.0.0/16', kind: 'tunnel', interface: 'sag-edge0', sourceResourceId: 'sag-1a9' },
      ],
      aclRules: [],
      tunnels: [],
    },
    tunnelStats: [],
    broker: { url: 'mqtt://127.0.0.1:1883', state: 'connected', since: 0, lastError: null },
    boot: { result: 'none', reason: 'none' },
    now: 0,
    edge,
  });
}

describe('sag-agent status for an access point', () => {
  it('shows the probe responder, peers, VPCs (reached or not), instances and routes instead of ports and tunnels', () => {
    const text = formatStatus(
      edgeStatus({
        listen: '0.0.0.0:51820',
        probesAnswered: 12,
        applied: {
          listenPort: 51821,
          peers: [{ gatewayId: 'sag-1a9', publicKey: KEY, allowedIps: ['172.16.0.0/16'] }],
          vpcs: [{ vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'], interface: 'vpc0' }],
          unreachedVpcs: [{ vpcId: 'vpc-bj', cidrBlocks: ['10.2.0.0/16'], instanceIds: ['i-db'] }],
          instances: [{ instanceId: 'i-web', privateIp: '10.1.0.10', securityGroupIds: ['sg-web'] }],
          securityGroups: [{ id: 'sg-web', rules: 2 }],
        },
      }),
    );
    expect(text).toContain('linux data plane, edge role');
    expect(text).toContain('probes answered on 0.0.0.0:51820 (12 so far); WireGuard on 0.0.0.0:51821');
    expect(text).toMatch(/PEERS\nGATEWAY\s+PUBLIC KEY\s+ALLOWED IPS\nsag-1a9\s+A{43}=\s+172\.16\.0\.0\/16/);
    expect(text).toMatch(
      /VPCS[\s\S]*vpc-sh\s+10\.1\.0\.0\/16\s+vpc0\nvpc-bj\s+10\.2\.0\.0\/16\s+not reached: left out/,
    );
    expect(text).toMatch(/INSTANCES[\s\S]*i-web\s+10\.1\.0\.10\s+sg-web \(2 rules\)/);
    expect(text).toMatch(/ROUTES[\s\S]*172\.16\.0\.0\/16\s+tunnel\s+sag-edge0\s+sag-1a9/);
    expect(text).not.toContain('PORTS');
    expect(text).not.toContain('TUNNELS');
  });

  it('says when no edge config is applied yet', () => {
    const text = formatStatus(edgeStatus({ listen: '0.0.0.0:51820', probesAnswered: 0, applied: null }));
    expect(text).toContain('(no edge config applied yet)');
  });
});
