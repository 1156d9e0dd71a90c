import type { EdgePeerConfig } from '@opensag/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyTopology } from '../domain/index.js';
import type { Gateway, Topology } from '../domain/types.js';
import { encodeJson } from '../store/json.js';
import { EdgePeers, type PeerFacts } from './edgePeers.js';
import { EdgeRevisions } from './edgeRevision.js';
import { canonicalJson, configHash } from './revision.js';
import type { GatewayConfig, RouteEntry } from './types.js';

// Nested and disjoint blocks, so overlaps (and the omissions they cause) come often.
const BLOCKS = [
  '172.16.0.0/12',
  '172.16.0.0/16',
  '172.16.1.0/24',
  '172.17.0.0/16',
  '10.9.0.0/24',
  '192.168.0.0/24',
];
const KEYS = [
  'a2V5LWEtMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=',
  'a2V5LWItMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=',
  undefined,
];
const DESTINATIONS = ['10.1.0.0/16', '10.2.0.0/16', '192.168.9.0/24'];

interface World {
  topology: Topology;
  keys: Map<string, string | undefined>;
  routes: Map<string, readonly RouteEntry[]>;
}

const step = fc.record({
  gateway: fc.integer({ min: 0, max: 5 }),
  lifecycle: fc.constantFrom<Gateway['lifecycle']>('active', 'active', 'active', 'shipped'),
  blocks: fc.subarray(BLOCKS, { maxLength: 2 }),
  key: fc.constantFrom(...KEYS, 'unique', 'unique'),
  routes: fc.subarray(DESTINATIONS),
  remove: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  hinted: fc.boolean(),
});

function gatewayOf(id: string, lifecycle: Gateway['lifecycle'], privateCidrs: string[]): Gateway {
  return {
    id,
    name: id,
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    lifecycle,
    serialNumber: `SN-${id}`,
    publicKey: null,
    activatedAt: null,
    expiresAt: null,
    aclId: null,
    ccnId: null,
    privateCidrs,
    ports: { wan: [], lan: [] },
  } as Gateway;
}

function factsOf(world: World): PeerFacts {
  return { tunnelKeyOf: (id) => world.keys.get(id), routesOf: (id) => world.routes.get(id) ?? [] };
}

function edgeConfigOf(peers: ReturnType<EdgePeers['update']>): GatewayConfig {
  return {
    gatewayId: 'ap-edge-a',
    serialNumber: 'SAGEDGEA01',
    ports: { wan: [], lan: [] },
    privateCidrs: [],
    tunnels: [],
    keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
    routes: [],
    aclRules: [],
    aclId: null,
    edge: {
      listenPort: 51821,
      peers: peers.peers as EdgePeerConfig[],
      routeSets: [...peers.routeSets],
      vpcs: [],
      instances: [],
      securityGroups: [],
    },
  };
}

describe('EdgePeers', () => {
  it('kept across random changes, gives exactly what a fresh build gives, and hashes alike', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const world: World = { topology: emptyTopology(), keys: new Map(), routes: new Map() };
        const kept = new EdgePeers();
        const revisions = new EdgeRevisions();
        for (const s of steps) {
          const id = `sag-${String(s.gateway).padStart(2, '0')}`;
          if (s.remove) world.topology.gateways.delete(id);
          else world.topology.gateways.set(id, gatewayOf(id, s.lifecycle, s.blocks));
          world.keys.set(id, s.key === 'unique' ? `${id}-key-000000000000000000000000000000000=` : s.key);
          world.routes.set(
            id,
            s.routes.map((destination) => Object.freeze({ destination }) as unknown as RouteEntry),
          );
          const incremental = kept.update(world.topology, factsOf(world), s.hinted ? [id] : undefined);
          const fresh = new EdgePeers().update(world.topology, factsOf(world));
          expect(incremental).toEqual(fresh);
          const config = edgeConfigOf(incremental);
          expect(revisions.hashOf(config)).toBe(configHash(config));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('returns the same frozen list when nothing changed, and reuses unchanged peers', () => {
    const world: World = { topology: emptyTopology(), keys: new Map(), routes: new Map() };
    for (let i = 0; i < 3; i++) {
      const id = `sag-${i}`;
      world.topology.gateways.set(id, gatewayOf(id, 'active', [`172.16.${i}.0/24`]));
      world.keys.set(id, `${id}-key-000000000000000000000000000000000=`);
    }
    const peers = new EdgePeers();
    const first = peers.update(world.topology, factsOf(world));
    expect(Object.isFrozen(first.peers)).toBe(true);
    expect(peers.update(world.topology, factsOf(world))).toBe(first);
    world.topology.gateways.set('sag-1', gatewayOf('sag-1', 'active', ['172.16.9.0/24']));
    const second = peers.update(world.topology, factsOf(world), ['sag-1']);
    expect(second.peers[0]).toBe(first.peers[0]);
    expect(second.peers[2]).toBe(first.peers[2]);
    expect(second.peers[1].allowedIps).toEqual(['172.16.9.0/24']);
  });
});

describe('EdgeRevisions', () => {
  it('hashes a thousand-peer config as configHash does, before and after one peer changes', () => {
    const peers = Array.from({ length: 1000 }, (_, i) =>
      Object.freeze({
        gatewayId: `sag-${i}`,
        publicKey: `k${i}`,
        allowedIps: [`10.0.${i % 250}.0/24`],
        routeSet: 'routes-1',
      }),
    );
    const revisions = new EdgeRevisions();
    // Long enough lists that they are hashed element by element.
    const routeSets = Array.from({ length: 40 }, (_, i) => ({
      id: `routes-${i + 1}`,
      destinations: [`10.${i}.0.0/16`],
    }));
    const config = edgeConfigOf({ peers: Object.freeze(peers), routeSets, omitted: [] });
    config.edge?.vpcs.push(
      ...Array.from({ length: 20 }, (_, i) => ({ vpcId: `vpc-${i}`, cidrBlocks: [`10.${i}.0.0/16`] })),
    );
    expect(revisions.hashOf(config)).toBe(configHash(config));
    const changed = [...peers];
    changed[500] = Object.freeze({ ...peers[500], publicKey: 'other' });
    const next = edgeConfigOf({ peers: Object.freeze(changed), routeSets: routeSets.slice(1), omitted: [] });
    expect(revisions.hashOf(next)).toBe(configHash(next));
    expect(revisions.hashOf(next)).not.toBe(revisions.hashOf(config));
    const record = revisions.next(undefined, next, new Date(0));
    expect(record?.revision).toBe(1);
    // What the store writes is the canonical text, built from the pages: the same content.
    expect(JSON.parse(encodeJson(record?.config) ?? 'null')).toEqual(next);
    expect(encodeJson(record?.config)).toBe(canonicalJson(next));
    expect(revisions.next(record ?? undefined, next, new Date(0))).toBeNull();
  });
});
