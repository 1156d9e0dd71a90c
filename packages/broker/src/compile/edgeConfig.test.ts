import { describe, expect, it } from 'vitest';
import type { Topology } from '../domain/types.js';
import {
  gateway,
  referenceTopology,
  SCENARIO_SETTINGS,
  securityGroupRule,
} from '../testing/referenceTopology.js';
import { compileEdgeConfig, type PeerFacts, wireguardPortOf } from './edgeConfig.js';
import { compileGatewayConfig } from './gatewayConfig.js';

const KEYS: Record<string, string> = {
  'sag-hz': 'aHotYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=',
  'sag-nb': 'bmItYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=',
};
/** Keys as the devices reported them, routes as the gateways' own configs say. */
const factsOf = (topology: Topology, keys: Record<string, string> = KEYS): PeerFacts => ({
  tunnelKeyOf: (id) => keys[id],
  routesOf: (id) => compileGatewayConfig(topology, id, SCENARIO_SETTINGS).routes,
});
const shanghai = SCENARIO_SETTINGS.accessPoints[0];

describe('compileEdgeConfig', () => {
  it('gives the access point a peer per active gateway and every VPC, instance and group', () => {
    const topology = referenceTopology();
    topology.securityGroups
      .get('sg-sh')
      ?.rules.push(
        securityGroupRule({ id: 'sgr-1', direction: 'ingress', policy: 'accept', cidr: '172.16.0.0/16' }),
      );
    const { config, omitted } = compileEdgeConfig(
      topology,
      { ...shanghai, serialNumber: 'SAGEDGEA01' },
      SCENARIO_SETTINGS,
      factsOf(topology),
    );
    expect(omitted).toEqual([]);
    expect(config).toMatchObject({
      gatewayId: 'ap-shanghai',
      serialNumber: 'SAGEDGEA01',
      ports: { wan: [], lan: [] },
      tunnels: [],
      routes: [],
      aclRules: [],
    });
    expect(config.edge).toEqual({
      listenPort: 7001,
      peers: [
        {
          gatewayId: 'sag-hz',
          publicKey: KEYS['sag-hz'],
          allowedIps: ['172.16.0.0/16'],
          routeSet: 'routes-1',
        },
        {
          gatewayId: 'sag-nb',
          publicKey: KEYS['sag-nb'],
          allowedIps: ['172.17.0.0/16'],
          routeSet: 'routes-1',
        },
      ],
      routeSets: [
        // Both learn the other's block and the VPCs: with their own blocks, one shared set.
        { id: 'routes-1', destinations: ['10.1.0.0/16', '10.2.0.0/16', '172.16.0.0/16', '172.17.0.0/16'] },
      ],
      vpcs: [
        { vpcId: 'vpc-bj', cidrBlocks: ['10.2.0.0/16'] },
        { vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'] },
      ],
      instances: [
        { instanceId: 'i-bj', privateIp: '10.2.0.10', securityGroupIds: ['sg-bj'] },
        { instanceId: 'i-sh', privateIp: '10.1.0.10', securityGroupIds: ['sg-sh'] },
      ],
      securityGroups: [
        { id: 'sg-bj', rules: [] },
        {
          id: 'sg-sh',
          rules: [
            {
              id: 'sgr-1',
              direction: 'ingress',
              policy: 'accept',
              priority: expect.any(Number),
              protocol: expect.any(String),
              portRange: expect.any(String),
              cidr: '172.16.0.0/16',
            },
          ],
        },
      ],
    });
  });

  it('names the gateways it leaves out: no key yet, a repeated key, an overlapping block', () => {
    const topology = referenceTopology();
    topology.gateways.set(
      'sag-wz',
      gateway({ id: 'sag-wz', name: 'Wenzhou branch', privateCidrs: ['172.16.8.0/24'], ccnId: null }),
    );
    topology.gateways.set(
      'sag-xa',
      gateway({ id: 'sag-xa', name: "Xi'an branch", privateCidrs: ['172.30.0.0/16'], ccnId: null }),
    );
    const keys: Record<string, string> = {
      ...KEYS,
      'sag-wz': 'd3otYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=',
    };
    keys['sag-xa'] = KEYS['sag-nb'];
    const { config, omitted } = compileEdgeConfig(
      topology,
      shanghai,
      SCENARIO_SETTINGS,
      factsOf(topology, keys),
    );
    expect(config.edge?.peers.map((peer) => peer.gatewayId)).toEqual(['sag-hz', 'sag-nb']);
    expect(omitted).toEqual([
      {
        gatewayId: 'sag-wz',
        reason: 'its private block overlaps 172.16.0.0/16 of gateway sag-hz on the same access point',
      },
      { gatewayId: 'sag-xa', reason: 'its tunnel key is also the key of gateway sag-nb' },
    ]);
    const noKeys = compileEdgeConfig(topology, shanghai, SCENARIO_SETTINGS, factsOf(topology, {}));
    expect(noKeys.config.edge?.peers).toEqual([]);
    expect(noKeys.omitted[0]).toEqual({
      gatewayId: 'sag-hz',
      reason: 'its device has not reported a tunnel key yet',
    });
  });

  it('keeps the first gateway (by id) of overlapping blocks, however the blocks nest', () => {
    const topology = referenceTopology();
    topology.gateways.clear();
    const blocks: Record<string, string[]> = {
      'sag-a': ['10.0.0.0/8'],
      'sag-b': ['10.1.0.0/16'],
      'sag-c': ['192.168.0.0/24', '10.2.0.0/16'],
      'sag-d': ['172.16.0.0/16'],
      'sag-e': ['172.16.255.0/24'],
    };
    for (const [id, privateCidrs] of Object.entries(blocks))
      topology.gateways.set(id, gateway({ id, name: id, privateCidrs, ccnId: null }));
    const keys = Object.fromEntries(Object.keys(blocks).map((id, i) => [id, `${String(i).repeat(43)}=`]));
    const { config, omitted } = compileEdgeConfig(
      topology,
      shanghai,
      SCENARIO_SETTINGS,
      factsOf(topology, keys),
    );
    expect(config.edge?.peers.map((peer) => peer.gatewayId)).toEqual(['sag-a', 'sag-d']);
    expect(omitted.map((o) => `${o.gatewayId}: ${o.reason}`)).toEqual([
      'sag-b: its private block overlaps 10.0.0.0/8 of gateway sag-a on the same access point',
      'sag-c: its private block overlaps 10.0.0.0/8 of gateway sag-a on the same access point',
      'sag-e: its private block overlaps 172.16.0.0/16 of gateway sag-d on the same access point',
    ]);
  });

  it("lets each peer reach only what its gateway's own routes reach", () => {
    const topology = referenceTopology();
    topology.gateways.set(
      'sag-wz',
      gateway({ id: 'sag-wz', name: 'Wenzhou branch', privateCidrs: ['172.20.0.0/16'], ccnId: null }),
    );
    const keys: Record<string, string> = {
      ...KEYS,
      'sag-wz': 'd3otYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=',
    };
    const { config } = compileEdgeConfig(topology, shanghai, SCENARIO_SETTINGS, factsOf(topology, keys));
    // In no CCN: a tunnel, but nowhere to go through it but back to its own block.
    const set = config.edge?.peers.find((peer) => peer.gatewayId === 'sag-wz')?.routeSet;
    expect(config.edge?.routeSets?.find((entry) => entry.id === set)?.destinations).toEqual([
      '172.20.0.0/16',
    ]);
    // Hangzhou and Ningbo, in one CEN, share a set; Wenzhou has its own.
    const setOf = (id: string) => config.edge?.peers.find((peer) => peer.gatewayId === id)?.routeSet;
    expect(setOf('sag-hz')).toBe(setOf('sag-nb'));
    expect(config.edge?.routeSets).toHaveLength(2);
  });

  it('leaves out gateways that are not active and serves no gateway past the first two access points', () => {
    const topology = referenceTopology();
    const hz = topology.gateways.get('sag-hz');
    if (hz) hz.lifecycle = 'shipped';
    const { config } = compileEdgeConfig(topology, shanghai, SCENARIO_SETTINGS, factsOf(topology));
    expect(config.edge?.peers.map((peer) => peer.gatewayId)).toEqual(['sag-nb']);
    const third = { id: 'ap-guangzhou', address: '192.0.2.30:51820' };
    const settings = { ...SCENARIO_SETTINGS, accessPoints: [...SCENARIO_SETTINGS.accessPoints, third] };
    const spare = compileEdgeConfig(referenceTopology(), third, settings, factsOf(referenceTopology()));
    expect(spare.config.edge?.peers).toEqual([]);
    expect(spare.config.edge?.listenPort).toBe(51821);
    expect(wireguardPortOf(third)).toBe(51821);
  });

  it("places a peer's own blocks among its sorted routes, each destination once", () => {
    const topology = referenceTopology();
    topology.gateways.set(
      'sag-wz',
      gateway({
        id: 'sag-wz',
        name: 'Wenzhou branch',
        privateCidrs: ['9.0.0.0/8', '10.1.2.0/24', '200.1.0.0/16'],
      }),
    );
    const route = (destination: string, sourceResourceId: string) => ({
      destination,
      nextHop: 'tunnel' as const,
      sourceResourceId,
      sourceKind: 'gateway' as const,
    });
    const facts: PeerFacts = {
      tunnelKeyOf: (id) => (id === 'sag-wz' ? 'd3otYnJhbmNoLXR1bm5lbC1rZXktMDAwMDAwMDAwMDA=' : undefined),
      // Sorted by destination as a config's routes are, one destination learned from two sources.
      routesOf: () => [
        route('10.0.0.0/16', 'sag-a'),
        route('10.1.0.0/16', 'sag-b'),
        route('10.1.0.0/16', 'vpc-c'),
        route('172.16.0.0/12', 'sag-d'),
      ],
    };
    const { config } = compileEdgeConfig(topology, shanghai, SCENARIO_SETTINGS, facts);
    expect(config.edge?.routeSets).toEqual([
      {
        id: 'routes-1',
        destinations: [
          '9.0.0.0/8',
          '10.0.0.0/16',
          '10.1.0.0/16',
          '10.1.2.0/24',
          '172.16.0.0/12',
          '200.1.0.0/16',
        ],
      },
    ]);
  });
});
