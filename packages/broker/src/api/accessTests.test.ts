import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

/** Two instances of the Shanghai VPC in different security groups. */
async function twoInstances() {
  const vpc = await api.vpc('Shanghai VPC', 'cn-shanghai', ['10.1.0.0/16']);
  const clients = await api.securityGroup(vpc.id, 'clients');
  const servers = await api.securityGroup(vpc.id, 'servers');
  const client = await api.create('/v1/instances', {
    name: 'client',
    vpcId: vpc.id,
    privateIp: '10.1.0.10',
    securityGroupIds: [clients.id],
  });
  const server = await api.create('/v1/instances', {
    name: 'server',
    vpcId: vpc.id,
    privateIp: '10.1.0.20',
    securityGroupIds: [servers.id],
  });
  return { vpc, servers, client, server };
}

describe('POST /v1/access-tests', () => {
  it('is unreachable until a security-group rule admits the traffic, naming the group', async () => {
    const { servers, client, server } = await twoInstances();
    const request = {
      source: { instanceId: client.id },
      destination: { instanceId: server.id },
      protocol: 'tcp',
      port: 22,
    };
    const before = await api.post('/v1/access-tests', request);
    expect(before.status).toBe(200);
    expect(before.body.reachable).toBe(false);
    expect(before.body.reason).toContain(servers.id);
    const blocking = before.body.hops.find((h: { verdict: string }) => h.verdict === 'block');
    expect(blocking).toMatchObject({ kind: 'security-group-ingress' });
    await api.create(`/v1/security-groups/${servers.id}/rules`, {
      direction: 'ingress',
      policy: 'accept',
      priority: 1,
      protocol: 'tcp',
      portRange: '22/22',
      cidr: '10.1.0.0/16',
    });
    const after = await api.post('/v1/access-tests', request);
    expect(after.body.reachable).toBe(true);
    expect(after.body.hops.every((h: { verdict: string }) => h.verdict === 'pass')).toBe(true);
  });

  it('names the first blocking hop of a branch whose device never connected', async () => {
    const { server } = await twoInstances();
    const g = await api.activeGateway();
    const res = await api.post('/v1/access-tests', {
      source: { gatewayId: g.id, ip: '172.16.1.10' },
      destination: { instanceId: server.id },
      protocol: 'tcp',
      port: 22,
    });
    expect(res.status).toBe(200);
    expect(res.body.reachable).toBe(false);
    const first = res.body.hops.find((h: { verdict: string }) => h.verdict === 'block');
    expect(first).toMatchObject({ kind: 'device', resourceId: g.id });
    expect(res.body.reason).toBe(first.reason);
  });

  it('refuses a source of neither shape and the protocol "all" (400 VALIDATION)', async () => {
    const shape = await api.post('/v1/access-tests', {
      source: { ip: '172.16.1.10' },
      destination: { ip: '10.1.0.1' },
      protocol: 'tcp',
    });
    expect(shape.status).toBe(400);
    expect(shape.body.error.message).toContain('body/source must be one of {gatewayId, ip} or {instanceId}');
    const all = await api.post('/v1/access-tests', {
      source: { instanceId: 'i-1' },
      destination: { ip: '10.1.0.1' },
      protocol: 'all',
    });
    expect(all.body.error.message).toBe('body/protocol must be one of "tcp", "udp", "icmp"');
  });

  it('answers 404 for an unknown source gateway or instance', async () => {
    const gateway = await api.post('/v1/access-tests', {
      source: { gatewayId: 'sag-nope', ip: '172.16.1.10' },
      destination: { ip: '10.1.0.10' },
      protocol: 'icmp',
    });
    expect(gateway.status).toBe(404);
    expect(gateway.body.error.message).toContain('sag-nope');
    const instance = await api.post('/v1/access-tests', {
      source: { instanceId: 'i-nope' },
      destination: { ip: '10.1.0.10' },
      protocol: 'icmp',
    });
    expect(instance.status).toBe(404);
  });
});
