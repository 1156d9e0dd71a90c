import { describe, expect, it } from 'vitest';
import { areaOfRegion } from '../domain/catalogue.js';
import { isSagError } from '../errors.js';
import { ccn, gateway, referenceTopology, vpc } from '../testing/referenceTopology.js';
import { cenRouteTable, compareDestinations, routesLearnedByGateway } from './routes.js';

const areaOf = areaOfRegion;

function withSingaporeVpc() {
  const topology = referenceTopology();
  topology.vpcs.set(
    'vpc-sg',
    vpc({
      id: 'vpc-sg',
      name: 'Singapore VPC',
      region: 'ap-southeast-1',
      cidrBlocks: ['10.3.0.0/16'],
      cenId: 'cen-main',
    }),
  );
  return topology;
}

describe('routes learned by a gateway', () => {
  it('Hangzhou learns Ningbo and both VPCs of the CEN, all active', () => {
    const routes = routesLearnedByGateway(referenceTopology(), 'sag-hz', areaOf);
    expect(routes.map((r) => [r.destination, r.sourceResourceId, r.state]).sort()).toEqual([
      ['10.1.0.0/16', 'vpc-sh', 'active'],
      ['10.2.0.0/16', 'vpc-bj', 'active'],
      ['172.17.0.0/16', 'sag-nb', 'active'],
    ]);
  });

  it('a gateway with no CCN learns nothing', () => {
    const topology = referenceTopology();
    topology.gateways.set(
      'sag-lone',
      gateway({ id: 'sag-lone', name: 'Lone', privateCidrs: ['192.168.9.0/24'] }),
    );
    expect(routesLearnedByGateway(topology, 'sag-lone', areaOf)).toEqual([]);
  });

  it('a CCN not attached to a CEN gives only the CCN peers', () => {
    const topology = referenceTopology();
    topology.ccns.set('ccn-branches', { ...topology.ccns.get('ccn-branches')!, cenId: null });
    const routes = routesLearnedByGateway(topology, 'sag-nb', areaOf);
    expect(routes.map((r) => r.destination)).toEqual(['172.16.0.0/16']);
  });

  it('a CCN in another area is inactive until the CEN has a bandwidth package for the pair', () => {
    const topology = referenceTopology();
    topology.ccns.set('ccn-hk', ccn({ id: 'ccn-hk', area: 'asia-pacific', cenId: 'cen-main' }));
    topology.gateways.set(
      'sag-hk',
      gateway({
        id: 'sag-hk',
        name: 'HK',
        area: 'asia-pacific',
        privateCidrs: ['192.168.0.0/24'],
        ccnId: 'ccn-hk',
      }),
    );
    const toHk = routesLearnedByGateway(topology, 'sag-hz', areaOf).find(
      (r) => r.sourceResourceId === 'sag-hk',
    );
    expect(toHk).toMatchObject({ state: 'inactive', destination: '192.168.0.0/24' });
    expect(toHk?.reason).toBe(
      'ccn-hk is in area asia-pacific and ccn-branches is in area china-mainland; ' +
        'add a bandwidth package for asia-pacific ↔ china-mainland to cen-main',
    );
    topology.cens.set('cen-main', {
      ...topology.cens.get('cen-main')!,
      bandwidthPackages: [{ areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 10 }],
    });
    const after = routesLearnedByGateway(topology, 'sag-hz', areaOf).find(
      (r) => r.sourceResourceId === 'sag-hk',
    );
    expect(after).toMatchObject({ state: 'active' });
    expect(after).not.toHaveProperty('reason');
  });
});

describe('CEN route table', () => {
  it('lists what every VPC and every gateway of the reference scenario learns, VPCs learning each other too', () => {
    const table = cenRouteTable(referenceTopology(), 'cen-main', areaOf);
    const rows = table.map(
      (r) => `${r.destination} ${r.sourceResourceId} -> ${r.learnerResourceId} ${r.state}`,
    );
    expect(rows).toEqual([
      '10.1.0.0/16 vpc-sh -> sag-hz active',
      '10.1.0.0/16 vpc-sh -> sag-nb active',
      '10.1.0.0/16 vpc-sh -> vpc-bj active',
      '10.2.0.0/16 vpc-bj -> sag-hz active',
      '10.2.0.0/16 vpc-bj -> sag-nb active',
      '10.2.0.0/16 vpc-bj -> vpc-sh active',
      '172.16.0.0/16 sag-hz -> sag-nb active',
      '172.16.0.0/16 sag-hz -> vpc-bj active',
      '172.16.0.0/16 sag-hz -> vpc-sh active',
      '172.17.0.0/16 sag-nb -> sag-hz active',
      '172.17.0.0/16 sag-nb -> vpc-bj active',
      '172.17.0.0/16 sag-nb -> vpc-sh active',
    ]);
    expect(table[0]).toEqual({
      destination: '10.1.0.0/16',
      sourceResourceId: 'vpc-sh',
      sourceKind: 'vpc',
      learnerResourceId: 'sag-hz',
      learnerKind: 'gateway',
      state: 'active',
    });
    expect(
      table.find((r) => r.learnerResourceId === 'vpc-sh' && r.sourceResourceId === 'sag-hz'),
    ).toMatchObject({ learnerKind: 'vpc', sourceKind: 'gateway' });
    expect(
      table.find((r) => r.learnerResourceId === 'vpc-sh' && r.sourceResourceId === 'vpc-bj'),
    ).toMatchObject({ learnerKind: 'vpc', sourceKind: 'vpc', destination: '10.2.0.0/16' });
  });

  it('shows a VPC in another area as inactive, both ways, with a reason, until a bandwidth package exists', () => {
    const topology = withSingaporeVpc();
    const crossing = cenRouteTable(topology, 'cen-main', areaOf).filter(
      (r) => r.sourceResourceId === 'vpc-sg' || r.learnerResourceId === 'vpc-sg',
    );
    // Both branches and both mainland VPCs, each way.
    expect(crossing).toHaveLength(8);
    for (const route of crossing) {
      expect(route.state).toBe('inactive');
      expect(route.reason).toMatch(
        /ap-southeast-1 \(vpc-sg\) is in area asia-pacific.*; add a bandwidth package for asia-pacific ↔ china-mainland to cen-main$/,
      );
    }
    expect(crossing.find((r) => r.learnerResourceId === 'sag-hz')?.reason).toBe(
      'ap-southeast-1 (vpc-sg) is in area asia-pacific and ccn-branches is in area china-mainland; ' +
        'add a bandwidth package for asia-pacific ↔ china-mainland to cen-main',
    );
    topology.cens.set('cen-main', {
      ...topology.cens.get('cen-main')!,
      bandwidthPackages: [{ areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 10 }],
    });
    const table = cenRouteTable(topology, 'cen-main', areaOf);
    expect(table.every((r) => r.state === 'active')).toBe(true);
    expect(table).toHaveLength(20);
  });

  it('a package for another pair of areas does not activate the route', () => {
    const topology = withSingaporeVpc();
    topology.cens.set('cen-main', {
      ...topology.cens.get('cen-main')!,
      bandwidthPackages: [{ areas: ['china-mainland', 'europe'], bandwidthMbps: 10 }],
    });
    const table = cenRouteTable(topology, 'cen-main', areaOf);
    expect(table.filter((r) => r.state === 'inactive')).toHaveLength(8);
  });

  it('a VPC whose region is in no known area stays inactive and says so', () => {
    const topology = referenceTopology();
    topology.vpcs.set('vpc-sh', { ...topology.vpcs.get('vpc-sh')!, region: 'mars-1' });
    const route = cenRouteTable(topology, 'cen-main', areaOf).find((r) => r.sourceResourceId === 'vpc-sh');
    expect(route?.state).toBe('inactive');
    expect(route?.reason).toContain('mars-1 (vpc-sh) is in no known area');
  });

  it('an unknown CEN is NOT_FOUND', () => {
    try {
      cenRouteTable(referenceTopology(), 'cen-nope', areaOf);
      expect.unreachable();
    } catch (err) {
      expect(isSagError(err) && err.code).toBe('NOT_FOUND');
      expect((err as Error).message).toBe('CEN cen-nope not found');
    }
  });
});

describe('helpers', () => {
  it('sorts destinations by address, then prefix', () => {
    const sorted = ['172.16.0.0/16', '10.0.0.0/16', '9.0.0.0/8', '10.0.0.0/8', '192.168.0.0/24'].sort(
      compareDestinations,
    );
    expect(sorted).toEqual(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '172.16.0.0/16', '192.168.0.0/24']);
  });
});
