import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
let vpc: { id: string };
let sg: { id: string };
beforeEach(async () => {
  api = await startTestApi();
  vpc = await api.vpc();
  sg = await api.securityGroup(vpc.id);
});
afterEach(() => api.close());

const body = () => ({ name: 'web-1', vpcId: vpc.id, privateIp: '10.1.0.10', securityGroupIds: [sg.id] });

describe('POST /v1/instances', () => {
  it('creates an instance with 201', async () => {
    const res = await api.post('/v1/instances', body());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject(body());
    expect(res.body.id).toMatch(/^i-/);
  });

  it('refuses a missing field (400 VALIDATION), an address outside the VPC and a reused one (400 INVALID_ARGUMENT)', async () => {
    const { securityGroupIds: _, ...noGroups } = body();
    expect((await api.post('/v1/instances', noGroups)).body.error.message).toBe(
      'body/securityGroupIds is required',
    );
    const outside = await api.post('/v1/instances', { ...body(), privateIp: '10.9.0.10' });
    expect(outside.status).toBe(400);
    expect(outside.body.error.code).toBe('INVALID_ARGUMENT');
    expect(outside.body.error.message).toContain('10.1.0.0/16');
    await api.create('/v1/instances', body());
    const reused = await api.post('/v1/instances', { ...body(), name: 'web-2' });
    expect(reused.body.error.code).toBe('INVALID_ARGUMENT');
  });

  it('answers 404 for an unknown VPC or security group', async () => {
    expect((await api.post('/v1/instances', { ...body(), vpcId: 'vpc-nope' })).status).toBe(404);
    const res = await api.post('/v1/instances', { ...body(), securityGroupIds: ['sg-nope'] });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('sg-nope');
  });
});

describe('GET /v1/instances', () => {
  it('lists instances, filtered by VPC', async () => {
    const instance = await api.create('/v1/instances', body());
    const other = await api.vpc('Beijing VPC', 'cn-beijing', ['10.2.0.0/16']);
    expect((await api.get('/v1/instances')).body).toEqual({ items: [instance], nextCursor: null });
    expect((await api.get(`/v1/instances?vpcId=${vpc.id}`)).body.items).toEqual([instance]);
    expect((await api.get(`/v1/instances?vpcId=${other.id}`)).body.items).toEqual([]);
  });
});

describe('GET and DELETE /v1/instances/{id}', () => {
  it('gets and deletes (204) an instance; unknown ids answer 404', async () => {
    const instance = await api.create('/v1/instances', body());
    expect((await api.get(`/v1/instances/${instance.id}`)).body).toEqual(instance);
    expect((await api.delete(`/v1/instances/${instance.id}`)).status).toBe(204);
    expect((await api.get(`/v1/instances/${instance.id}`)).status).toBe(404);
    expect((await api.delete(`/v1/instances/${instance.id}`)).status).toBe(404);
  });
});
