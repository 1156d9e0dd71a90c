import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

describe('POST /v1/ccns', () => {
  it('creates a CCN with 201', async () => {
    const res = await api.post('/v1/ccns', { name: 'Branches', area: 'china-mainland', description: 'east' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Branches', area: 'china-mainland', cenId: null, gatewayIds: [] });
    expect(res.body.id).toMatch(/^ccn-/);
  });

  it('refuses a missing area (400 VALIDATION), a bad name (400 INVALID_NAME) and a disabled area (400 INVALID_AREA)', async () => {
    expect((await api.post('/v1/ccns', { name: 'Branches' })).body.error.message).toBe(
      'body/area is required',
    );
    const name = await api.post('/v1/ccns', { name: '#1', area: 'china-mainland' });
    expect(name.body.error.code).toBe('INVALID_NAME');
    const area = await api.post('/v1/ccns', { name: 'Branches', area: 'europe' });
    expect(area.status).toBe(400);
    expect(area.body.error.code).toBe('INVALID_AREA');
  });

  it('answers 409 QUOTA_EXCEEDED past the CCN quota', async () => {
    const small = await startTestApi({ quotas: { ccns: 1 } });
    try {
      await small.ccn('First');
      const res = await small.post('/v1/ccns', { name: 'Second', area: 'china-mainland' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('QUOTA_EXCEEDED');
    } finally {
      await small.close();
    }
  });
});

describe('GET /v1/ccns and /v1/ccns/{id}', () => {
  it('lists and gets CCNs with their gateways', async () => {
    const ccn = await api.ccn();
    const g = await api.gateway();
    await api.expectOk(api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id }), 201);
    const list = await api.get('/v1/ccns');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ items: [{ ...ccn, gatewayIds: [g.id] }], nextCursor: null });
    const one = await api.get(`/v1/ccns/${ccn.id}`);
    expect(one.body.gatewayIds).toEqual([g.id]);
  });

  it('answers 404 for an unknown CCN', async () => {
    const res = await api.get('/v1/ccns/ccn-nope');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('ccn-nope');
  });
});

describe('DELETE /v1/ccns/{id}', () => {
  it('deletes an empty CCN with 204', async () => {
    const ccn = await api.ccn();
    expect((await api.delete(`/v1/ccns/${ccn.id}`)).status).toBe(204);
    expect((await api.get(`/v1/ccns/${ccn.id}`)).status).toBe(404);
  });

  it('answers 409 IN_USE while gateways are bound or it is attached to a CEN, 404 when unknown', async () => {
    const ccn = await api.ccn();
    const g = await api.gateway();
    await api.expectOk(api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id }), 201);
    const bound = await api.delete(`/v1/ccns/${ccn.id}`);
    expect(bound.status).toBe(409);
    expect(bound.body.error.code).toBe('IN_USE');
    expect(bound.body.error.message).toContain(g.id);
    await api.expectOk(api.delete(`/v1/ccns/${ccn.id}/gateways/${g.id}`), 204);
    const cen = await api.cen();
    await api.expectOk(
      api.post(`/v1/cens/${cen.id}/attachments`, { instanceType: 'ccn', instanceId: ccn.id }),
      201,
    );
    const attached = await api.delete(`/v1/ccns/${ccn.id}`);
    expect(attached.body.error.code).toBe('IN_USE');
    expect(attached.body.error.message).toContain(cen.id);
    expect((await api.delete('/v1/ccns/ccn-nope')).status).toBe(404);
  });
});

describe('POST /v1/ccns/{id}/gateways', () => {
  it('binds a gateway with 201 and answers the CCN', async () => {
    const ccn = await api.ccn();
    const g = await api.gateway();
    const res = await api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: ccn.id, gatewayIds: [g.id] });
    expect((await api.get(`/v1/gateways/${g.id}`)).body.ccnId).toBe(ccn.id);
  });

  it('refuses a gateway already in a CCN (409 ALREADY_BOUND) and overlapping blocks (409 CIDR_CONFLICT)', async () => {
    const first = await api.ccn('First');
    const second = await api.ccn('Second');
    const hangzhou = await api.gateway('Hangzhou branch');
    const ningbo = await api.gateway('Ningbo branch');
    await api.expectOk(
      api.put(`/v1/gateways/${hangzhou.id}/network`, { privateCidrs: ['172.16.0.0/16'], ccnId: first.id }),
    );
    const again = await api.post(`/v1/ccns/${second.id}/gateways`, { gatewayId: hangzhou.id });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_BOUND');
    expect(again.body.error.message).toContain(first.id);
    await api.expectOk(
      api.put(`/v1/gateways/${ningbo.id}/network`, { privateCidrs: ['172.16.0.0/12'], ccnId: null }),
    );
    const overlap = await api.post(`/v1/ccns/${first.id}/gateways`, { gatewayId: ningbo.id });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error.code).toBe('CIDR_CONFLICT');
  });

  it('refuses a gateway of another area (409 AREA_MISMATCH)', async () => {
    const twoAreas = await startTestApi({ enabledAreas: ['china-mainland', 'europe'] });
    try {
      const ccn = await twoAreas.create('/v1/ccns', { name: 'Europe branches', area: 'europe' });
      const g = await twoAreas.gateway('Hangzhou branch');
      const res = await twoAreas.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('AREA_MISMATCH');
      expect(res.body.error.message).toContain('europe');
    } finally {
      await twoAreas.close();
    }
  });

  it('answers 400 without gatewayId and 404 for an unknown CCN or gateway', async () => {
    const ccn = await api.ccn();
    expect((await api.post(`/v1/ccns/${ccn.id}/gateways`, {})).body.error.message).toBe(
      'body/gatewayId is required',
    );
    expect((await api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: 'sag-nope' })).status).toBe(404);
    const g = await api.gateway();
    expect((await api.post('/v1/ccns/ccn-nope/gateways', { gatewayId: g.id })).status).toBe(404);
  });
});

describe('DELETE /v1/ccns/{id}/gateways/{gatewayId}', () => {
  it('unbinds with 204', async () => {
    const ccn = await api.ccn();
    const g = await api.gateway();
    await api.expectOk(api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id }), 201);
    expect((await api.delete(`/v1/ccns/${ccn.id}/gateways/${g.id}`)).status).toBe(204);
    expect((await api.get(`/v1/ccns/${ccn.id}`)).body.gatewayIds).toEqual([]);
  });

  it('answers 404 when the gateway is not bound there or either id is unknown', async () => {
    const ccn = await api.ccn();
    const g = await api.gateway();
    const notBound = await api.delete(`/v1/ccns/${ccn.id}/gateways/${g.id}`);
    expect(notBound.status).toBe(404);
    expect(notBound.body.error.message).toContain(ccn.id);
    expect((await api.delete(`/v1/ccns/ccn-nope/gateways/${g.id}`)).status).toBe(404);
  });
});
