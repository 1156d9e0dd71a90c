import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

describe('GET /v1/areas', () => {
  it('lists the catalogue with its regions and marks the enabled areas', async () => {
    const res = await api.get('/v1/areas');
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const byName = Object.fromEntries(res.body.items.map((a: { area: string }) => [a.area, a]));
    expect(byName['china-mainland']).toEqual({
      area: 'china-mainland',
      regions: expect.arrayContaining(['cn-hangzhou', 'cn-shanghai', 'cn-beijing']),
      enabled: true,
    });
    expect(byName.europe).toEqual({ area: 'europe', regions: ['eu-central-1'], enabled: false });
  });

  it('answers 401 without a token', async () => {
    expect((await api.call('GET', '/v1/areas', undefined, null)).status).toBe(401);
  });
});
