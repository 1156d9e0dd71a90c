import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../testing/testApi.js';

let api: TestApi;
afterEach(() => api.close());

const EDGE = {
  id: 'ap-edge-a',
  address: '203.0.113.11:51820',
  serialNumber: 'SAGEDGEA01',
  identityKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
};

describe('/v1/access-points', () => {
  it('lists the access points in tunnel order with their edge agents', async () => {
    api = await startTestApi({
      accessPoints: [
        EDGE,
        { id: 'ap-edge-b', address: '203.0.113.12:51820' },
        { id: 'ap-3', address: '192.0.2.3:1' },
      ],
    });
    const res = await api.get('/v1/access-points');
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { id: string; role: string }) => [p.id, p.role])).toEqual([
      ['ap-edge-a', 'active'],
      ['ap-edge-b', 'standby'],
      ['ap-3', 'spare'],
    ]);
    expect(res.body.items[0]).toEqual({
      id: 'ap-edge-a',
      address: '203.0.113.11:51820',
      role: 'active',
      serialNumber: 'SAGEDGEA01',
      tunnelPublicKey: null,
      presence: 'offline',
      lastSeenAt: null,
      desiredRevision: 1,
      appliedRevision: null,
      sync: 'pending',
      syncError: null,
      peers: 0,
      omittedPeers: [],
    });
    expect((await api.get('/v1/access-points/ap-edge-b')).body).toMatchObject({ serialNumber: null });
  });

  it('shows the config of an edge-run access point and 404s for the others', async () => {
    api = await startTestApi({ accessPoints: [EDGE] });
    const config = await api.get('/v1/access-points/ap-edge-a/config');
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      gatewayId: 'ap-edge-a',
      revision: 1,
      config: {
        serialNumber: 'SAGEDGEA01',
        edge: { listenPort: 51821, peers: [], vpcs: [], instances: [], securityGroups: [] },
      },
    });
    const missing = await api.get('/v1/access-points/ap-nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('access point ap-nope not found');
    expect((await api.call('GET', '/v1/access-points', undefined, null)).status).toBe(401);
  });
});
