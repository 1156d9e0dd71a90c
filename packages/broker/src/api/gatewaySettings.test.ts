import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceIdentity, startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
});
afterEach(() => api.close());

describe('PUT /v1/gateways/{id}/device', () => {
  it('binds the device: the gateway is shipped and shows its serial number', async () => {
    const g = await api.gateway();
    const device = deviceIdentity();
    const res = await api.put(`/v1/gateways/${g.id}/device`, device);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lifecycle: 'shipped', ...device });
  });

  it('refuses a missing field (400 VALIDATION) and a key that is not 32 bytes of base64 (400 INVALID_ARGUMENT)', async () => {
    const g = await api.gateway();
    const missing = await api.put(`/v1/gateways/${g.id}/device`, { serialNumber: 'SN-1' });
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION', message: 'body/publicKey is required' });
    const short = await api.put(`/v1/gateways/${g.id}/device`, { serialNumber: 'SN-1', publicKey: 'AAAA' });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe('INVALID_ARGUMENT');
    expect(short.body.error.message).toContain('publicKey');
  });

  it('refuses a serial number already bound to another gateway, naming it (409 ALREADY_BOUND)', async () => {
    const hangzhou = await api.gateway('Hangzhou branch');
    const ningbo = await api.gateway('Ningbo branch');
    const device = deviceIdentity();
    await api.expectOk(api.put(`/v1/gateways/${hangzhou.id}/device`, device));
    const res = await api.put(`/v1/gateways/${ningbo.id}/device`, device);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ALREADY_BOUND');
    expect(res.body.error.message).toContain(hangzhou.id);
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.put('/v1/gateways/sag-nope/device', deviceIdentity())).status).toBe(404);
  });
});

describe('DELETE /v1/gateways/{id}/device', () => {
  it('unbinds the device with 204: a shipped gateway goes back to ordered', async () => {
    const g = await api.shippedGateway();
    const res = await api.delete(`/v1/gateways/${g.id}/device`);
    expect(res.status).toBe(204);
    expect((await api.get(`/v1/gateways/${g.id}`)).body).toMatchObject({
      lifecycle: 'ordered',
      serialNumber: null,
    });
  });

  it('answers 409 INVALID_STATE when no device is bound and 404 for an unknown gateway', async () => {
    const g = await api.gateway();
    const res = await api.delete(`/v1/gateways/${g.id}/device`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('INVALID_STATE');
    expect((await api.delete('/v1/gateways/sag-nope/device')).status).toBe(404);
  });
});

describe('PUT /v1/gateways/{id}/ports', () => {
  const ports = {
    wan: [
      { name: 'wan0', mode: 'dhcp' },
      {
        name: 'wan1',
        mode: 'static',
        address: '203.0.113.10/24',
        gateway: '203.0.113.1',
        dns: ['223.5.5.5'],
      },
    ],
    lan: [
      {
        name: 'lan0',
        address: '192.168.10.1/24',
        dhcp: { start: '192.168.10.100', end: '192.168.10.200', leaseMinutes: 720 },
      },
    ],
  };

  it('replaces the port configuration', async () => {
    const g = await api.gateway();
    const res = await api.put(`/v1/gateways/${g.id}/ports`, ports);
    expect(res.status).toBe(200);
    expect(res.body.ports).toEqual(ports);
  });

  it('refuses an unknown mode (400 VALIDATION) and a static WAN port without an address (400 INVALID_PORTS)', async () => {
    const g = await api.gateway();
    const mode = await api.put(`/v1/gateways/${g.id}/ports`, {
      wan: [{ name: 'wan0', mode: 'dialup' }],
      lan: [],
    });
    expect(mode.body.error).toMatchObject({
      code: 'VALIDATION',
      message: 'body/wan/0/mode must be one of "dhcp", "static", "pppoe"',
    });
    const noAddress = await api.put(`/v1/gateways/${g.id}/ports`, {
      wan: [{ name: 'wan0', mode: 'static' }],
      lan: [],
    });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.error.code).toBe('INVALID_PORTS');
  });

  it('answers 404 for an unknown gateway', async () => {
    expect((await api.put('/v1/gateways/sag-nope/ports', ports)).status).toBe(404);
  });
});

describe('PUT /v1/gateways/{id}/network', () => {
  it('sets blocks, binds the CCN and attaches it to the CEN in one change', async () => {
    const g = await api.gateway();
    const ccn = await api.ccn();
    const cen = await api.cen();
    const res = await api.put(`/v1/gateways/${g.id}/network`, {
      privateCidrs: ['172.16.0.0/16'],
      ccnId: ccn.id,
      cenId: cen.id,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ privateCidrs: ['172.16.0.0/16'], ccnId: ccn.id });
    expect((await api.get(`/v1/ccns/${ccn.id}`)).body).toMatchObject({ cenId: cen.id, gatewayIds: [g.id] });
  });

  it('refuses Ningbo 172.16.0.0/12 after Hangzhou 172.16.0.0/16, naming both gateways, and changes nothing', async () => {
    const hangzhou = await api.gateway('Hangzhou branch');
    const ningbo = await api.gateway('Ningbo branch');
    const ccn = await api.ccn();
    await api.expectOk(
      api.put(`/v1/gateways/${hangzhou.id}/network`, { privateCidrs: ['172.16.0.0/16'], ccnId: ccn.id }),
    );
    const res = await api.put(`/v1/gateways/${ningbo.id}/network`, {
      privateCidrs: ['172.16.0.0/12'],
      ccnId: ccn.id,
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CIDR_CONFLICT');
    for (const part of ['172.16.0.0/12', '172.16.0.0/16', hangzhou.id, ningbo.id]) {
      expect(res.body.error.message).toContain(part);
    }
    expect((await api.get(`/v1/gateways/${ningbo.id}`)).body).toMatchObject({
      privateCidrs: [],
      ccnId: null,
    });
  });

  it('refuses a non-canonical block (400 INVALID_CIDR), an unknown CCN (404) and too many blocks (409 QUOTA_EXCEEDED)', async () => {
    const g = await api.gateway();
    const ccn = await api.ccn();
    const url = `/v1/gateways/${g.id}/network`;
    const host = await api.put(url, { privateCidrs: ['172.16.0.1/16'], ccnId: ccn.id });
    expect(host.status).toBe(400);
    expect(host.body.error.code).toBe('INVALID_CIDR');
    expect(host.body.error.message).toContain('172.16.0.0/16');
    const unknown = await api.put(url, { privateCidrs: ['172.16.0.0/16'], ccnId: 'ccn-nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('ccn-nope');
    const six = ['10.0.0.0/16', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16', '10.5.0.0/16'];
    const many = await api.put(url, { privateCidrs: six, ccnId: ccn.id });
    expect(many.status).toBe(409);
    expect(many.body.error.code).toBe('QUOTA_EXCEEDED');
  });

  it('refuses a CCN of another area (409 AREA_MISMATCH)', async () => {
    const twoAreas = await startTestApi({ enabledAreas: ['china-mainland', 'europe'] });
    try {
      const ccn = await twoAreas.create('/v1/ccns', { name: 'Europe branches', area: 'europe' });
      const g = await twoAreas.gateway();
      const res = await twoAreas.put(`/v1/gateways/${g.id}/network`, {
        privateCidrs: ['172.16.0.0/16'],
        ccnId: ccn.id,
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('AREA_MISMATCH');
    } finally {
      await twoAreas.close();
    }
  });

  it('refuses a body without privateCidrs (400 VALIDATION) and answers 404 for an unknown gateway', async () => {
    const g = await api.gateway();
    const res = await api.put(`/v1/gateways/${g.id}/network`, { ccnId: null });
    expect(res.body.error).toMatchObject({ code: 'VALIDATION', message: 'body/privateCidrs is required' });
    const gone = await api.put('/v1/gateways/sag-nope/network', {
      privateCidrs: ['172.16.0.0/16'],
      ccnId: null,
    });
    expect(gone.status).toBe(404);
  });
});

describe('PUT and DELETE /v1/gateways/{id}/acl', () => {
  it('applies an ACL, replaces nothing else, and removes it with 204', async () => {
    const g = await api.gateway();
    const acl = await api.acl();
    const res = await api.put(`/v1/gateways/${g.id}/acl`, { aclId: acl.id });
    expect(res.status).toBe(200);
    expect(res.body.aclId).toBe(acl.id);
    expect((await api.delete(`/v1/gateways/${g.id}/acl`)).status).toBe(204);
    expect((await api.get(`/v1/gateways/${g.id}`)).body.aclId).toBeNull();
  });

  it('answers 400 without aclId, 404 for an unknown ACL or gateway, 409 when removing an ACL it does not have', async () => {
    const g = await api.gateway();
    expect((await api.put(`/v1/gateways/${g.id}/acl`, {})).body.error.message).toBe('body/aclId is required');
    const unknownAcl = await api.put(`/v1/gateways/${g.id}/acl`, { aclId: 'acl-nope' });
    expect(unknownAcl.status).toBe(404);
    expect(unknownAcl.body.error.message).toContain('acl-nope');
    expect((await api.put('/v1/gateways/sag-nope/acl', { aclId: 'acl-nope' })).status).toBe(404);
    const none = await api.delete(`/v1/gateways/${g.id}/acl`);
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('INVALID_STATE');
    expect((await api.delete('/v1/gateways/sag-nope/acl')).status).toBe(404);
  });
});
