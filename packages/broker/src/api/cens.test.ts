import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

const attach = (cenId: string, instanceType: 'vpc' | 'ccn', instanceId: string) =>
  api.post(`/v1/cens/${cenId}/attachments`, { instanceType, instanceId });

describe('POST, GET and DELETE /v1/cens', () => {
  it('creates (201), lists, gets and deletes (204) a CEN', async () => {
    const res = await api.post('/v1/cens', { name: 'Company network' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Company network', bandwidthPackages: [], attachments: [] });
    expect(res.body.id).toMatch(/^cen-/);
    expect((await api.get('/v1/cens')).body).toEqual({ items: [res.body], nextCursor: null });
    expect((await api.get(`/v1/cens/${res.body.id}`)).body).toEqual(res.body);
    expect((await api.delete(`/v1/cens/${res.body.id}`)).status).toBe(204);
    expect((await api.get(`/v1/cens/${res.body.id}`)).status).toBe(404);
  });

  it('refuses a bad body (400) and answers 404 for unknown ids', async () => {
    expect((await api.post('/v1/cens', { name: 'Net', area: 'china-mainland' })).body.error.code).toBe(
      'VALIDATION',
    );
    expect((await api.post('/v1/cens', { name: '-net' })).body.error.code).toBe('INVALID_NAME');
    expect((await api.get('/v1/cens/cen-nope')).status).toBe(404);
    expect((await api.delete('/v1/cens/cen-nope')).status).toBe(404);
  });

  it('refuses to delete a CEN with attachments (409 IN_USE)', async () => {
    const cen = await api.cen();
    const vpc = await api.vpc();
    await api.expectOk(attach(cen.id, 'vpc', vpc.id), 201);
    const res = await api.delete(`/v1/cens/${cen.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IN_USE');
    expect(res.body.error.message).toContain(vpc.id);
  });
});

describe('POST /v1/cens/{id}/attachments', () => {
  it('attaches VPCs and a CCN with 201 and lists them on the CEN', async () => {
    const cen = await api.cen();
    const shanghai = await api.vpc('Shanghai VPC', 'cn-shanghai', ['10.1.0.0/16']);
    const beijing = await api.vpc('Beijing VPC', 'cn-beijing', ['10.2.0.0/16']);
    const ccn = await api.ccn();
    await api.expectOk(attach(cen.id, 'vpc', shanghai.id), 201);
    await api.expectOk(attach(cen.id, 'vpc', beijing.id), 201);
    const res = await attach(cen.id, 'ccn', ccn.id);
    expect(res.status).toBe(201);
    expect(res.body.attachments).toEqual(
      expect.arrayContaining([
        { instanceType: 'vpc', instanceId: shanghai.id },
        { instanceType: 'vpc', instanceId: beijing.id },
        { instanceType: 'ccn', instanceId: ccn.id },
      ]),
    );
    expect((await api.get(`/v1/vpcs/${shanghai.id}`)).body.cenId).toBe(cen.id);
  });

  it('refuses an overlapping VPC (409 CIDR_CONFLICT) and a VPC attached elsewhere (409 ALREADY_BOUND)', async () => {
    const cen = await api.cen('First');
    const other = await api.cen('Second');
    const shanghai = await api.vpc('Shanghai VPC', 'cn-shanghai', ['10.1.0.0/16']);
    const wide = await api.vpc('Wide VPC', 'cn-beijing', ['10.0.0.0/8']);
    await api.expectOk(attach(cen.id, 'vpc', shanghai.id), 201);
    const overlap = await attach(cen.id, 'vpc', wide.id);
    expect(overlap.status).toBe(409);
    expect(overlap.body.error.code).toBe('CIDR_CONFLICT');
    expect(overlap.body.error.message).toContain('10.1.0.0/16');
    const twice = await attach(other.id, 'vpc', shanghai.id);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ALREADY_BOUND');
  });

  it('refuses an unknown instance type (400 VALIDATION) and answers 404 for unknown ids', async () => {
    const cen = await api.cen();
    const vpc = await api.vpc();
    const type = await api.post(`/v1/cens/${cen.id}/attachments`, {
      instanceType: 'vbr',
      instanceId: vpc.id,
    });
    expect(type.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/instanceType must be one of "vpc", "ccn"',
    });
    expect((await attach(cen.id, 'vpc', 'vpc-nope')).status).toBe(404);
    expect((await attach('cen-nope', 'vpc', vpc.id)).status).toBe(404);
  });
});

describe('DELETE /v1/cens/{id}/attachments/{instanceId}', () => {
  it('detaches with 204', async () => {
    const cen = await api.cen();
    const vpc = await api.vpc();
    await api.expectOk(attach(cen.id, 'vpc', vpc.id), 201);
    expect((await api.delete(`/v1/cens/${cen.id}/attachments/${vpc.id}`)).status).toBe(204);
    expect((await api.get(`/v1/cens/${cen.id}`)).body.attachments).toEqual([]);
  });

  it('answers 404 for an instance not attached there and for an unknown CEN', async () => {
    const cen = await api.cen();
    const vpc = await api.vpc();
    const res = await api.delete(`/v1/cens/${cen.id}/attachments/${vpc.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain(vpc.id);
    expect((await api.delete(`/v1/cens/cen-nope/attachments/${vpc.id}`)).status).toBe(404);
  });
});

describe('GET /v1/cens/{id}/routes', () => {
  it('shows every block with its source and state', async () => {
    const cen = await api.cen();
    const vpc = await api.vpc('Shanghai VPC', 'cn-shanghai', ['10.1.0.0/16']);
    const ccn = await api.ccn();
    const g = await api.gateway();
    await api.expectOk(
      api.put(`/v1/gateways/${g.id}/network`, {
        privateCidrs: ['172.16.0.0/16'],
        ccnId: ccn.id,
        cenId: cen.id,
      }),
    );
    await api.expectOk(attach(cen.id, 'vpc', vpc.id), 201);
    const res = await api.get(`/v1/cens/${cen.id}/routes`);
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          destination: '10.1.0.0/16',
          sourceResourceId: vpc.id,
          learnerResourceId: g.id,
          state: 'active',
        }),
        expect.objectContaining({
          destination: '172.16.0.0/16',
          sourceResourceId: g.id,
          learnerResourceId: vpc.id,
          state: 'active',
        }),
      ]),
    );
  });

  it('marks a cross-area route inactive with a reason until a bandwidth package covers the pair', async () => {
    const cen = await api.cen();
    const frankfurt = await api.vpc('Frankfurt VPC', 'eu-central-1', ['10.9.0.0/16']);
    const ccn = await api.ccn();
    const g = await api.gateway();
    await api.expectOk(
      api.put(`/v1/gateways/${g.id}/network`, {
        privateCidrs: ['172.16.0.0/16'],
        ccnId: ccn.id,
        cenId: cen.id,
      }),
    );
    await api.expectOk(attach(cen.id, 'vpc', frankfurt.id), 201);
    const toFrankfurt = async () =>
      (await api.get(`/v1/cens/${cen.id}/routes`)).body.items.find(
        (r: { destination: string; learnerResourceId: string }) =>
          r.destination === '10.9.0.0/16' && r.learnerResourceId === g.id,
      );
    const before = await toFrankfurt();
    expect(before.state).toBe('inactive');
    expect(before.reason).toContain('europe');
    await api.expectOk(
      api.put(`/v1/cens/${cen.id}/bandwidth-packages`, [
        { areas: ['china-mainland', 'europe'], bandwidthMbps: 10 },
      ]),
    );
    expect((await toFrankfurt()).state).toBe('active');
  });

  it('answers 404 for an unknown CEN', async () => {
    expect((await api.get('/v1/cens/cen-nope/routes')).status).toBe(404);
  });
});

describe('PUT /v1/cens/{id}/bandwidth-packages', () => {
  it('replaces the packages and answers the CEN', async () => {
    const cen = await api.cen();
    const res = await api.put(`/v1/cens/${cen.id}/bandwidth-packages`, [
      { areas: ['europe', 'china-mainland'], bandwidthMbps: 10 },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.bandwidthPackages).toEqual([{ areas: ['china-mainland', 'europe'], bandwidthMbps: 10 }]);
    const cleared = await api.put(`/v1/cens/${cen.id}/bandwidth-packages`, []);
    expect(cleared.body.bandwidthPackages).toEqual([]);
  });

  it('refuses a package with one area (400 VALIDATION), the same pair twice (400 INVALID_ARGUMENT), unknown CEN (404)', async () => {
    const cen = await api.cen();
    const url = `/v1/cens/${cen.id}/bandwidth-packages`;
    const one = await api.put(url, [{ areas: ['europe'], bandwidthMbps: 10 }]);
    expect(one.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/0/areas must NOT have fewer than 2 items',
    });
    const pair = { areas: ['europe', 'china-mainland'], bandwidthMbps: 10 };
    const twice = await api.put(url, [pair, pair]);
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('INVALID_ARGUMENT');
    expect((await api.put('/v1/cens/cen-nope/bandwidth-packages', [])).status).toBe(404);
  });
});
