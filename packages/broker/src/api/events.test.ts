import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

describe('GET /v1/events', () => {
  it('records each mutation with the operator, before and after', async () => {
    const g = await api.gateway();
    await api.expectOk(api.patch(`/v1/gateways/${g.id}`, { name: 'Hangzhou HQ' }));
    const res = await api.get(`/v1/events?resourceId=${g.id}`);
    expect(res.status).toBe(200);
    const byAction = Object.fromEntries(res.body.items.map((e: { action: string }) => [e.action, e]));
    const create = byAction['gateway.create'];
    const rename = byAction['gateway.update'];
    expect(create).toMatchObject({
      category: 'audit',
      action: 'gateway.create',
      actor: 'operator@127.0.0.1',
      resourceType: 'gateway',
      resourceId: g.id,
      before: null,
    });
    expect(create.after).toMatchObject({ id: g.id, name: 'Hangzhou branch' });
    expect(rename).toMatchObject({ before: { name: 'Hangzhou branch' }, after: { name: 'Hangzhou HQ' } });
    expect(rename.id).toBeGreaterThan(create.id);
  });

  it('pages with limit and cursor, and filters by category', async () => {
    for (const name of ['One', 'Two', 'Three']) await api.acl(name);
    const first = await api.get('/v1/events?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).not.toBeNull();
    const second = await api.get(`/v1/events?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect((await api.get('/v1/events?category=device')).body.items).toEqual([]);
  });

  it('refuses an unknown category and a bad limit (400 VALIDATION)', async () => {
    const category = await api.get('/v1/events?category=billing');
    expect(category.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'querystring/category must be one of "audit", "device"',
    });
    expect((await api.get('/v1/events?limit=-1')).status).toBe(400);
  });

  it('answers 401 with a wrong token', async () => {
    expect((await api.call('GET', '/v1/events', undefined, 'wrong')).status).toBe(401);
  });
});
