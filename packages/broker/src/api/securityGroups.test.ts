import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
let vpc: { id: string };
beforeEach(async () => {
  api = await startTestApi();
  vpc = await api.vpc();
});
afterEach(() => api.close());

const sshFromHangzhou = {
  direction: 'ingress',
  policy: 'accept',
  priority: 1,
  protocol: 'tcp',
  portRange: '22/22',
  cidr: '172.16.0.0/16',
  description: 'ssh from Hangzhou',
};

describe('POST /v1/security-groups', () => {
  it('creates a group with 201', async () => {
    const res = await api.post('/v1/security-groups', { name: 'web servers', vpcId: vpc.id });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'web servers', vpcId: vpc.id, rules: [] });
    expect(res.body.id).toMatch(/^sg-/);
  });

  it('refuses a missing VPC (400), a bad name (400 INVALID_NAME) and an unknown VPC (404)', async () => {
    expect((await api.post('/v1/security-groups', { name: 'web' })).body.error.message).toBe(
      'body/vpcId is required',
    );
    expect((await api.post('/v1/security-groups', { name: '9web', vpcId: vpc.id })).body.error.code).toBe(
      'INVALID_NAME',
    );
    expect((await api.post('/v1/security-groups', { name: 'web', vpcId: 'vpc-nope' })).status).toBe(404);
  });
});

describe('GET /v1/security-groups and /{id}', () => {
  it('lists (filtered by VPC) and gets groups; unknown ids answer 404', async () => {
    const sg = await api.securityGroup(vpc.id);
    const other = await api.vpc('Beijing VPC', 'cn-beijing', ['10.2.0.0/16']);
    expect((await api.get('/v1/security-groups')).body).toEqual({ items: [sg], nextCursor: null });
    expect((await api.get(`/v1/security-groups?vpcId=${other.id}`)).body.items).toEqual([]);
    expect((await api.get(`/v1/security-groups/${sg.id}`)).body).toEqual(sg);
    expect((await api.get('/v1/security-groups/sg-nope')).status).toBe(404);
  });
});

describe('DELETE /v1/security-groups/{id}', () => {
  it('deletes an unused group (204), refuses one an instance uses (409 IN_USE), 404 when unknown', async () => {
    const unused = await api.securityGroup(vpc.id, 'unused');
    expect((await api.delete(`/v1/security-groups/${unused.id}`)).status).toBe(204);
    const used = await api.securityGroup(vpc.id, 'used');
    const instance = await api.create('/v1/instances', {
      name: 'web-1',
      vpcId: vpc.id,
      privateIp: '10.1.0.10',
      securityGroupIds: [used.id],
    });
    const res = await api.delete(`/v1/security-groups/${used.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IN_USE');
    expect(res.body.error.message).toContain(instance.id);
    expect((await api.delete('/v1/security-groups/sg-nope')).status).toBe(404);
  });
});

describe('POST /v1/security-groups/{id}/rules', () => {
  it('adds a rule with 201 and answers the rule', async () => {
    const sg = await api.securityGroup(vpc.id);
    const res = await api.post(`/v1/security-groups/${sg.id}/rules`, sshFromHangzhou);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject(sshFromHangzhou);
    expect(res.body.id).toMatch(/^sgr-/);
    expect((await api.get(`/v1/security-groups/${sg.id}`)).body.rules).toEqual([res.body]);
  });

  it('refuses a bad protocol (400 VALIDATION), a port range on icmp (400 INVALID_RULE), an unknown group (404)', async () => {
    const sg = await api.securityGroup(vpc.id);
    const url = `/v1/security-groups/${sg.id}/rules`;
    const proto = await api.post(url, { ...sshFromHangzhou, protocol: 'gre' });
    expect(proto.body.error.message).toBe('body/protocol must be one of "tcp", "udp", "icmp", "all"');
    const icmp = await api.post(url, { ...sshFromHangzhou, protocol: 'icmp' });
    expect(icmp.status).toBe(400);
    expect(icmp.body.error.code).toBe('INVALID_RULE');
    expect(icmp.body.error.message).toContain('portRange');
    const priority = await api.post(url, { ...sshFromHangzhou, priority: 101 });
    expect(priority.body.error.code).toBe('INVALID_RULE');
    expect((await api.post('/v1/security-groups/sg-nope/rules', sshFromHangzhou)).status).toBe(404);
  });

  it('answers 409 QUOTA_EXCEEDED past the rules-per-group quota', async () => {
    const small = await startTestApi({ quotas: { rulesPerSecurityGroup: 1 } });
    try {
      const v = await small.vpc();
      const sg = await small.securityGroup(v.id);
      await small.create(`/v1/security-groups/${sg.id}/rules`, sshFromHangzhou);
      const res = await small.post(`/v1/security-groups/${sg.id}/rules`, {
        ...sshFromHangzhou,
        portRange: '80/80',
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('QUOTA_EXCEEDED');
    } finally {
      await small.close();
    }
  });
});

describe('DELETE /v1/security-groups/{id}/rules/{ruleId}', () => {
  it('removes a rule with 204; an unknown rule or group answers 404', async () => {
    const sg = await api.securityGroup(vpc.id);
    const rule = await api.create(`/v1/security-groups/${sg.id}/rules`, sshFromHangzhou);
    expect((await api.delete(`/v1/security-groups/${sg.id}/rules/${rule.id}`)).status).toBe(204);
    expect((await api.get(`/v1/security-groups/${sg.id}`)).body.rules).toEqual([]);
    const again = await api.delete(`/v1/security-groups/${sg.id}/rules/${rule.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.message).toContain(rule.id);
    expect((await api.delete(`/v1/security-groups/sg-nope/rules/${rule.id}`)).status).toBe(404);
  });
});
