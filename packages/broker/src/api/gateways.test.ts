import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceIdentity, startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

const hangzhou = {
  name: 'Hangzhou branch',
  area: 'china-mainland',
  spec: 'sag-100wm',
  bandwidthMbps: 2,
  subscriptionMonths: 1,
};

describe('POST /v1/gateways', () => {
  it('creates an ordered gateway and answers 201 with derived fields', async () => {
    const res = await api.post('/v1/gateways', { ...hangzhou, description: 'first floor' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ...hangzhou,
      description: 'first floor',
      lifecycle: 'ordered',
      locked: false,
      presence: 'offline',
      serialNumber: null,
      privateCidrs: [],
      ccnId: null,
      aclId: null,
      expiresAt: null,
      ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
    });
    expect(res.body.id).toMatch(/^sag-/);
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();
  });

  it('refuses a body that breaks the schema with 400 VALIDATION', async () => {
    const res = await api.post('/v1/gateways', { ...hangzhou, subscriptionMonths: 'one' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/subscriptionMonths must be integer',
    });
  });

  it.each([
    [{ name: ' Hangzhou' }, 'INVALID_NAME', 'name'],
    [{ area: 'europe' }, 'INVALID_AREA', 'europe'],
    [{ bandwidthMbps: 100 }, 'INVALID_SPEC', 'bandwidthMbps'],
    [{ subscriptionMonths: 10 }, 'INVALID_SUBSCRIPTION', 'subscriptionMonths'],
  ])('refuses %o with 400 %s', async (fields, code, mentioned) => {
    const res = await api.post('/v1/gateways', { ...hangzhou, ...fields });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toContain(mentioned);
  });

  it('answers 409 QUOTA_EXCEEDED past the gateway quota', async () => {
    const small = await startTestApi({ quotas: { gateways: 1 } });
    try {
      await small.gateway('Hangzhou branch');
      const res = await small.post('/v1/gateways', { ...hangzhou, name: 'Ningbo branch' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('QUOTA_EXCEEDED');
      expect(res.body.error.details).toMatchObject({ limit: 1 });
    } finally {
      await small.close();
    }
  });
});

describe('GET /v1/gateways', () => {
  it('lists gateways in creation order and filters by CCN', async () => {
    const a = await api.gateway('Hangzhou branch');
    const b = await api.gateway('Ningbo branch');
    const ccn = await api.ccn();
    await api.expectOk(api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: b.id }), 201);
    const all = await api.get('/v1/gateways');
    expect(all.status).toBe(200);
    expect(all.body.items.map((g: { id: string }) => g.id)).toEqual([a.id, b.id]);
    expect(all.body.items[0].presence).toBe('offline');
    expect(all.body.nextCursor).toBeNull();
    const inCcn = await api.get(`/v1/gateways?ccnId=${ccn.id}`);
    expect(inCcn.body.items.map((g: { id: string }) => g.id)).toEqual([b.id]);
  });

  it('refuses an unknown query parameter with 400 VALIDATION', async () => {
    const res = await api.get('/v1/gateways?colour=red');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe('querystring/colour is not an allowed property');
  });
});

describe('GET /v1/gateways/{id}', () => {
  it('answers the gateway', async () => {
    const g = await api.gateway();
    const res = await api.get(`/v1/gateways/${g.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(g);
  });

  it('answers 404 NOT_FOUND naming the id', async () => {
    const res = await api.get('/v1/gateways/sag-nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'NOT_FOUND', message: 'gateway sag-nope not found' });
  });
});

describe('PATCH /v1/gateways/{id}', () => {
  it('renames the gateway and changes its bandwidth', async () => {
    const g = await api.gateway();
    const res = await api.patch(`/v1/gateways/${g.id}`, { name: 'Hangzhou HQ', bandwidthMbps: 10 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: g.id, name: 'Hangzhou HQ', bandwidthMbps: 10 });
    expect((await api.get(`/v1/gateways/${g.id}`)).body.name).toBe('Hangzhou HQ');
  });

  it('refuses an empty patch, a field that cannot be patched, and a bandwidth outside the spec', async () => {
    const g = await api.gateway();
    const empty = await api.patch(`/v1/gateways/${g.id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toBe('body must have at least 1 property');
    const area = await api.patch(`/v1/gateways/${g.id}`, { area: 'europe' });
    expect(area.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/area is not an allowed property',
    });
    const fast = await api.patch(`/v1/gateways/${g.id}`, { bandwidthMbps: 51 });
    expect(fast.status).toBe(400);
    expect(fast.body.error.code).toBe('INVALID_SPEC');
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.patch('/v1/gateways/sag-nope', { name: 'Other' })).status).toBe(404);
  });
});

describe('DELETE /v1/gateways/{id}', () => {
  it('deletes with 204 and the gateway is gone', async () => {
    const g = await api.gateway();
    const res = await api.delete(`/v1/gateways/${g.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await api.get(`/v1/gateways/${g.id}`)).status).toBe(404);
  });

  it('answers 409 IN_USE while the gateway is bound to a CCN', async () => {
    const g = await api.gateway();
    const ccn = await api.ccn();
    await api.expectOk(api.post(`/v1/ccns/${ccn.id}/gateways`, { gatewayId: g.id }), 201);
    const res = await api.delete(`/v1/gateways/${g.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IN_USE');
    expect(res.body.error.message).toContain(ccn.id);
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.delete('/v1/gateways/sag-nope')).status).toBe(404);
  });
});

describe('POST /v1/gateways/{id}/activate', () => {
  it('refuses to activate before a device is bound (409 INVALID_STATE)', async () => {
    const g = await api.gateway();
    const res = await api.post(`/v1/gateways/${g.id}/activate`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INVALID_STATE');
    expect(res.body.error.message).toMatch(/device/);
  });

  it('activates a shipped gateway: active, expiry set; a second activation is refused', async () => {
    const g = await api.gateway();
    await api.expectOk(api.put(`/v1/gateways/${g.id}/device`, deviceIdentity()));
    const res = await api.post(`/v1/gateways/${g.id}/activate`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lifecycle: 'active', locked: false });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    expect((await api.post(`/v1/gateways/${g.id}/activate`)).body.error.code).toBe('INVALID_STATE');
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.post('/v1/gateways/sag-nope/activate')).status).toBe(404);
  });
});

describe('POST /v1/gateways/{id}/renew', () => {
  it('extends an active gateway and unlocks it once expired', async () => {
    let now = new Date('2025-01-15T00:00:00.000Z');
    const clocked = await startTestApi({ now: () => now });
    try {
      const g = await clocked.activeGateway();
      expect(g.expiresAt).toBe('2025-02-15T00:00:00.000Z');
      now = new Date('2025-03-01T00:00:00.000Z');
      expect((await clocked.get(`/v1/gateways/${g.id}`)).body.locked).toBe(true);
      const res = await clocked.post(`/v1/gateways/${g.id}/renew`, { subscriptionMonths: 3 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ locked: false, expiresAt: '2025-06-01T00:00:00.000Z' });
    } finally {
      await clocked.close();
    }
  });

  it('refuses to renew a gateway that is not active (409 INVALID_STATE)', async () => {
    const g = await api.gateway();
    const res = await api.post(`/v1/gateways/${g.id}/renew`, { subscriptionMonths: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INVALID_STATE');
  });

  it('refuses a missing or impossible subscription length (400)', async () => {
    const g = await api.activeGateway();
    const missing = await api.post(`/v1/gateways/${g.id}/renew`, {});
    expect(missing.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/subscriptionMonths is required',
    });
    const ten = await api.post(`/v1/gateways/${g.id}/renew`, { subscriptionMonths: 10 });
    expect(ten.status).toBe(400);
    expect(ten.body.error.code).toBe('INVALID_SUBSCRIPTION');
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.post('/v1/gateways/sag-nope/renew', { subscriptionMonths: 1 })).status).toBe(404);
  });
});

describe('GET /v1/gateways/{id}/status', () => {
  it('answers lifecycle, presence and sync of a gateway whose device never connected', async () => {
    const g = await api.activeGateway();
    const res = await api.get(`/v1/gateways/${g.id}/status`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      gatewayId: g.id,
      lifecycle: 'active',
      locked: false,
      presence: 'offline',
      lastSeenAt: null,
      appliedRevision: null,
      tunnels: [],
      ports: [],
    });
    expect(['in-sync', 'pending', 'failed']).toContain(res.body.sync);
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.get('/v1/gateways/sag-nope/status')).status).toBe(404);
  });
});

describe('GET /v1/gateways/{id}/config', () => {
  it('answers the compiled config, whose revision moves when the gateway changes', async () => {
    const g = await api.gateway();
    await api.expectOk(api.put(`/v1/gateways/${g.id}/device`, deviceIdentity()));
    const first = await api.get(`/v1/gateways/${g.id}/config`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ gatewayId: g.id, config: { gatewayId: g.id } });
    expect(first.body.hash).toBeTruthy();
    await api.expectOk(
      api.put(`/v1/gateways/${g.id}/ports`, {
        wan: [
          { name: 'wan0', mode: 'dhcp' },
          { name: 'wan1', mode: 'dhcp' },
        ],
        lan: [],
      }),
    );
    const second = await api.get(`/v1/gateways/${g.id}/config`);
    expect(second.body.revision).toBeGreaterThan(first.body.revision);
    expect(second.body.config.ports.wan).toHaveLength(2);
  });

  it('answers 404 for an unknown gateway', async () => {
    const res = await api.get('/v1/gateways/sag-nope/config');
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('sag-nope');
  });
});
