import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

const dropSsh = {
  name: 'no-ssh-out',
  direction: 'out',
  policy: 'drop',
  priority: 10,
  protocol: 'tcp',
  sourceCidr: '172.16.0.0/16',
  sourcePortRange: '-1/-1',
  destCidr: '10.1.0.0/16',
  destPortRange: '22/22',
};

describe('POST /v1/acls', () => {
  it('creates an ACL with 201', async () => {
    const res = await api.post('/v1/acls', { name: 'Branch firewall', description: 'default' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Branch firewall', description: 'default', rules: [] });
    expect(res.body.id).toMatch(/^acl-/);
  });

  it('refuses a missing name (400 VALIDATION), a bad name (400 INVALID_NAME) and past the quota (409)', async () => {
    expect((await api.post('/v1/acls', {})).body.error.message).toBe('body/name is required');
    expect((await api.post('/v1/acls', { name: 'a' })).body.error.code).toBe('INVALID_NAME');
    const small = await startTestApi({ quotas: { acls: 1 } });
    try {
      await small.acl('First');
      const res = await small.post('/v1/acls', { name: 'Second' });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('QUOTA_EXCEEDED');
    } finally {
      await small.close();
    }
  });
});

describe('GET /v1/acls and /{id}', () => {
  it('lists and gets ACLs; unknown ids answer 404', async () => {
    const acl = await api.acl();
    expect((await api.get('/v1/acls')).body).toEqual({ items: [acl], nextCursor: null });
    expect((await api.get(`/v1/acls/${acl.id}`)).body).toEqual(acl);
    expect((await api.get('/v1/acls/acl-nope')).status).toBe(404);
  });
});

describe('DELETE /v1/acls/{id}', () => {
  it('deletes an unused ACL (204), refuses one a gateway uses (409 IN_USE), 404 when unknown', async () => {
    const acl = await api.acl();
    const g = await api.gateway();
    await api.expectOk(api.put(`/v1/gateways/${g.id}/acl`, { aclId: acl.id }));
    const res = await api.delete(`/v1/acls/${acl.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IN_USE');
    expect(res.body.error.message).toContain(g.id);
    await api.expectOk(api.delete(`/v1/gateways/${g.id}/acl`), 204);
    expect((await api.delete(`/v1/acls/${acl.id}`)).status).toBe(204);
    expect((await api.delete(`/v1/acls/${acl.id}`)).status).toBe(404);
  });
});

describe('POST /v1/acls/{id}/rules', () => {
  it('adds rules with 201 in insertion order', async () => {
    const acl = await api.acl();
    const first = await api.post(`/v1/acls/${acl.id}/rules`, dropSsh);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject(dropSsh);
    expect(first.body.id).toMatch(/^aclr-/);
    const second = await api.create(`/v1/acls/${acl.id}/rules`, {
      ...dropSsh,
      name: 'second',
      destPortRange: '80/80',
    });
    const rules = (await api.get(`/v1/acls/${acl.id}`)).body.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual([first.body.id, second.id]);
  });

  it('refuses a bad direction (400 VALIDATION), a priority out of range and a bad port range (400 INVALID_RULE)', async () => {
    const acl = await api.acl();
    const url = `/v1/acls/${acl.id}/rules`;
    const direction = await api.post(url, { ...dropSsh, direction: 'ingress' });
    expect(direction.body.error.message).toBe('body/direction must be one of "in", "out"');
    const priority = await api.post(url, { ...dropSsh, priority: 0 });
    expect(priority.status).toBe(400);
    expect(priority.body.error.code).toBe('INVALID_RULE');
    expect(priority.body.error.message).toContain('priority');
    const ports = await api.post(url, { ...dropSsh, destPortRange: '22' });
    expect(ports.body.error.code).toBe('INVALID_RULE');
    const cidr = await api.post(url, { ...dropSsh, destCidr: '10.1.0.1/16' });
    expect(cidr.body.error.code).toBe('INVALID_CIDR');
  });

  it('answers 409 QUOTA_EXCEEDED past the rules-per-ACL quota and 404 for an unknown ACL', async () => {
    const small = await startTestApi({ quotas: { rulesPerAcl: 1 } });
    try {
      const acl = await small.acl();
      await small.create(`/v1/acls/${acl.id}/rules`, dropSsh);
      const res = await small.post(`/v1/acls/${acl.id}/rules`, dropSsh);
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { limit: 1 } });
    } finally {
      await small.close();
    }
    expect((await api.post('/v1/acls/acl-nope/rules', dropSsh)).status).toBe(404);
  });
});

describe('PATCH /v1/acls/{id}/rules/{ruleId}', () => {
  it('changes some fields and keeps the rule’s id and place', async () => {
    const acl = await api.acl();
    const first = await api.create(`/v1/acls/${acl.id}/rules`, dropSsh);
    const second = await api.create(`/v1/acls/${acl.id}/rules`, { ...dropSsh, name: 'second' });
    const res = await api.patch(`/v1/acls/${acl.id}/rules/${first.id}`, {
      policy: 'accept',
      destPortRange: '443/443',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ...dropSsh, id: first.id, policy: 'accept', destPortRange: '443/443' });
    const rules = (await api.get(`/v1/acls/${acl.id}`)).body.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual([first.id, second.id]);
  });

  it('refuses an empty or unknown field (400 VALIDATION), a bad value (400 INVALID_RULE), unknown ids (404)', async () => {
    const acl = await api.acl();
    const rule = await api.create(`/v1/acls/${acl.id}/rules`, dropSsh);
    const url = `/v1/acls/${acl.id}/rules/${rule.id}`;
    expect((await api.patch(url, {})).body.error.message).toBe('body must have at least 1 property');
    expect((await api.patch(url, { id: 'aclr-x' })).body.error.message).toBe(
      'body/id is not an allowed property',
    );
    expect((await api.patch(url, { priority: 500 })).body.error.code).toBe('INVALID_RULE');
    const unknownRule = await api.patch(`/v1/acls/${acl.id}/rules/aclr-nope`, { priority: 5 });
    expect(unknownRule.status).toBe(404);
    expect(unknownRule.body.error.message).toContain('aclr-nope');
    expect((await api.patch(`/v1/acls/acl-nope/rules/${rule.id}`, { priority: 5 })).status).toBe(404);
  });
});

describe('DELETE /v1/acls/{id}/rules/{ruleId}', () => {
  it('removes a rule with 204; unknown rule or ACL answers 404', async () => {
    const acl = await api.acl();
    const rule = await api.create(`/v1/acls/${acl.id}/rules`, dropSsh);
    expect((await api.delete(`/v1/acls/${acl.id}/rules/${rule.id}`)).status).toBe(204);
    expect((await api.get(`/v1/acls/${acl.id}`)).body.rules).toEqual([]);
    expect((await api.delete(`/v1/acls/${acl.id}/rules/${rule.id}`)).status).toBe(404);
    expect((await api.delete(`/v1/acls/acl-nope/rules/${rule.id}`)).status).toBe(404);
  });
});
