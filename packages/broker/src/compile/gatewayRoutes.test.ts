import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyTopology, type Topology } from '../domain/types.js';
import { ccn, cen, gateway, SCENARIO_SETTINGS, vpc } from '../testing/referenceTopology.js';
import { compileGatewayConfig } from './gatewayConfig.js';
import { membershipsOf, routesLearnedByGateway, sortedByDestination } from './routes.js';
import type { CompileSettings, RouteEntry } from './types.js';

// Regions of two known areas and one no area holds, so routes go inactive for both reasons.
const areaOfRegion = (region: string) => ({ 'r-east': 'east', 'r-west': 'west' })[region];
const SETTINGS: CompileSettings = { ...SCENARIO_SETTINGS, areaOfRegion };

/** What a gateway's config listed before routes were shared: its learned routes, active, sorted. */
function expectedRoutes(topology: Topology, gatewayId: string): RouteEntry[] {
  const routes = routesLearnedByGateway(topology, gatewayId, areaOfRegion)
    .filter((route) => route.state === 'active')
    .map((route) => ({
      destination: route.destination,
      nextHop: 'tunnel' as const,
      sourceResourceId: route.sourceResourceId,
      sourceKind: route.sourceKind,
    }));
  return sortedByDestination(
    routes,
    (route) => route.destination,
    (a, b) =>
      a.sourceResourceId < b.sourceResourceId ? -1 : a.sourceResourceId > b.sourceResourceId ? 1 : 0,
  );
}

interface Layout {
  cens: { packaged: boolean }[];
  ccns: { area: 'east' | 'west' | 'north'; cen: number | null }[];
  vpcs: { region: 'r-east' | 'r-west' | 'r-nowhere'; cen: number | null; blocks: number }[];
  gateways: { ccn: number | null; blocks: number }[];
}

const layout: fc.Arbitrary<Layout> = fc.record({
  cens: fc.array(fc.record({ packaged: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  ccns: fc.array(
    fc.record({
      area: fc.constantFrom('east' as const, 'west' as const, 'north' as const),
      cen: fc.option(fc.nat(2)),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  vpcs: fc.array(
    fc.record({
      region: fc.constantFrom('r-east' as const, 'r-west' as const, 'r-nowhere' as const),
      cen: fc.option(fc.nat(2)),
      blocks: fc.integer({ min: 1, max: 2 }),
    }),
    { maxLength: 4 },
  ),
  gateways: fc.array(fc.record({ ccn: fc.option(fc.nat(5)), blocks: fc.nat(2) }), { maxLength: 20 }),
});

/** Every block distinct: the n-th block anywhere is 10.n.0.0/16 (given in shuffled order). */
function topologyOf(shape: Layout): Topology {
  const topology = emptyTopology();
  let next = 0;
  const blocks = (count: number) => Array.from({ length: count }, () => `10.${(next++ * 37) % 256}.0.0/16`);
  const cenId = (index: number | null) =>
    index === null || index >= shape.cens.length ? null : `cen-${index}`;
  shape.cens.forEach(({ packaged }, i) => {
    const bandwidthPackages = packaged ? [{ areas: ['east', 'west'], bandwidthMbps: 10 }] : [];
    topology.cens.set(`cen-${i}`, cen({ id: `cen-${i}`, bandwidthPackages }));
  });
  shape.ccns.forEach(({ area, cen: c }, i) => {
    topology.ccns.set(`ccn-${i}`, ccn({ id: `ccn-${i}`, area, cenId: cenId(c) }));
  });
  shape.vpcs.forEach(({ region, cen: c, blocks: count }, i) => {
    topology.vpcs.set(
      `vpc-${i}`,
      vpc({ id: `vpc-${i}`, region, cidrBlocks: blocks(count), cenId: cenId(c) }),
    );
  });
  shape.gateways.forEach(({ ccn: c, blocks: count }, i) => {
    const ccnId = c === null || c >= shape.ccns.length ? null : `ccn-${c}`;
    const id = `sag-${i}`;
    topology.gateways.set(id, gateway({ id, name: id, privateCidrs: blocks(count), ccnId }));
  });
  return topology;
}

describe('gateway routes from shared tables', () => {
  it('are exactly the active learned routes, sorted, for every gateway of a batch', () => {
    fc.assert(
      fc.property(layout, (shape) => {
        const topology = topologyOf(shape);
        const members = membershipsOf(topology);
        for (const id of topology.gateways.keys()) {
          const batched = compileGatewayConfig(topology, id, SETTINGS, members).routes;
          expect(batched).toEqual(expectedRoutes(topology, id));
          expect(compileGatewayConfig(topology, id, SETTINGS).routes).toEqual(batched);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('share frozen entries, so no config can change another', () => {
    const topology = topologyOf({
      cens: [{ packaged: false }],
      ccns: [{ area: 'east', cen: 0 }],
      vpcs: [{ region: 'r-east', cen: 0, blocks: 1 }],
      gateways: [
        { ccn: 0, blocks: 1 },
        { ccn: 0, blocks: 1 },
      ],
    });
    const members = membershipsOf(topology);
    const a = compileGatewayConfig(topology, 'sag-0', SETTINGS, members);
    const b = compileGatewayConfig(topology, 'sag-1', SETTINGS, members);
    const vpcRoute = (routes: RouteEntry[]) => routes.find((route) => route.sourceKind === 'vpc');
    expect(vpcRoute(a.routes)).toBe(vpcRoute(b.routes));
    expect(() => {
      (vpcRoute(a.routes) as RouteEntry).destination = '0.0.0.0/0';
    }).toThrow(TypeError);
    a.routes.pop();
    a.tunnels.pop();
    expect(b.routes).toHaveLength(2);
    expect(b.tunnels).toHaveLength(SETTINGS.accessPoints.length);
  });
});
