import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

describe('POST /v1/vpcs', () => {
  it('creates a VPC with 201', async () => {
    const res = await api.post('/v1/vpcs', {
      name: 'Shanghai VPC',
      region: 'cn-shanghai',
      cidrBlocks: ['10.1.0.0/16'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Shanghai VPC',
      region: 'cn-shanghai',
      cidrBlocks: ['10.1.0.0/16'],
      cenId: null,
    });
    expect(res.body.id).toMatch(/^vpc-/);
  });

  it.each([
    [{ cidrBlocks: '10.1.0.0/16' }, 'VALIDATION', 'body/cidrBlocks must be array'],
    [{ region: 'mars-1' }, 'INVALID_REGION', 'mars-1'],
    [{ cidrBlocks: ['10.1.0.1/16'] }, 'INVALID_CIDR', '10.1.0.0/16'],
    [{ cidrBlocks: ['10.1.0.0/16', '10.1.128.0/17'] }, 'CIDR_CONFLICT', '10.1.128.0/17'],
    [{ name: 'V' }, 'INVALID_NAME', 'name'],
  ])('refuses %o with %s', async (fields, code, mentioned) => {
    const res = await api.post('/v1/vpcs', {
      name: 'Shanghai VPC',
      region: 'cn-shanghai',
      cidrBlocks: ['10.1.0.0/16'],
      ...fields,
    });
    expect(res.status).toBe(code === 'CIDR_CONFLICT' ? 409 : 400);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toContain(mentioned);
  });
});

describe('GET /v1/vpcs', () => {
  it('pages through 7 VPCs 3 at a time: 3 pages, nextCursor null at the end', async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++)
      created.push((await api.vpc(`VPC ${i}`, 'cn-shanghai', [`10.${i}.0.0/16`])).id);
    const seen: string[] = [];
    const cursors: (string | null)[] = [];
    let url = '/v1/vpcs?limit=3';
    for (let page = 0; page < 10; page++) {
      const res = await api.get(url);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((v: { id: string }) => v.id));
      cursors.push(res.body.nextCursor);
      if (res.body.nextCursor === null) break;
      url = `/v1/vpcs?limit=3&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    expect(cursors).toHaveLength(3);
    expect(cursors[2]).toBeNull();
    expect(seen).toEqual(created);
  });

  it('refuses a limit above 500 and a cursor it never issued (400 VALIDATION)', async () => {
    expect((await api.get('/v1/vpcs?limit=501')).body.error.message).toBe('querystring/limit must be <= 500');
    const res = await api.get('/v1/vpcs?cursor=bogus');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION');
    expect(res.body.error.message).toContain('cursor');
  });
});

describe('GET /v1/vpcs/{id}', () => {
  it('answers the VPC, or 404', async () => {
    const vpc = await api.vpc();
    expect((await api.get(`/v1/vpcs/${vpc.id}`)).body).toEqual(vpc);
    expect((await api.get('/v1/vpcs/vpc-nope')).status).toBe(404);
  });
});

describe('DELETE /v1/vpcs/{id}', () => {
  it('deletes an empty VPC with 204', async () => {
    const vpc = await api.vpc();
    expect((await api.delete(`/v1/vpcs/${vpc.id}`)).status).toBe(204);
    expect((await api.get(`/v1/vpcs/${vpc.id}`)).status).toBe(404);
  });

  it('answers 409 IN_USE while it holds a security group, 404 when unknown', async () => {
    const vpc = await api.vpc();
    const sg = await api.securityGroup(vpc.id);
    const res = await api.delete(`/v1/vpcs/${vpc.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IN_USE');
    expect(res.body.error.message).toContain(sg.id);
    expect((await api.delete('/v1/vpcs/vpc-nope')).status).toBe(404);
  });
});
