import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Change, EntityKind, Topology } from '../domain/types.js';
import {
  acl,
  aclRule,
  ccn,
  cen,
  gateway,
  instance,
  referenceTopology,
  SCENARIO_SETTINGS,
  securityGroup,
  topologyOf,
  vpc,
} from '../testing/referenceTopology.js';
import { compileGatewayConfig } from './gatewayConfig.js';
import { configHash } from './revision.js';
import { changeScope, gatewaysInScope } from './scope.js';

function applied(before: Topology, changes: Change[]): Topology {
  const after = topologyOf({
    gateways: [...before.gateways.values()],
    ccns: [...before.ccns.values()],
    cens: [...before.cens.values()],
    vpcs: [...before.vpcs.values()],
    instances: [...before.instances.values()],
    securityGroups: [...before.securityGroups.values()],
    acls: [...before.acls.values()],
  });
  for (const change of changes) {
    const map = collection(after, change.kind);
    if (change.op === 'put') map.set(change.value.id, change.value);
    else map.delete(change.id);
  }
  return after;
}

function collection(topology: Topology, kind: EntityKind): Map<string, { id: string }> {
  const key = kind === 'securityGroup' ? 'securityGroups' : (`${kind}s` as const);
  return topology[key as keyof Topology] as Map<string, { id: string }>;
}

function selected(before: Topology, changes: Change[]): string[] {
  return [...gatewaysInScope(applied(before, changes), changeScope(before, changes))].sort();
}

/** Two CCNs of three gateways each in cen-a, plus ccn-z with one gateway in cen-z. */
function twoCcnTopology(): Topology {
  const gateways = ['1', '2', '3'].flatMap((n) => [
    gateway({ id: `sag-a${n}`, name: `A${n}`, privateCidrs: [`172.16.${n}.0/24`], ccnId: 'ccn-a' }),
    gateway({ id: `sag-b${n}`, name: `B${n}`, privateCidrs: [`172.17.${n}.0/24`], ccnId: 'ccn-b' }),
  ]);
  return topologyOf({
    gateways: [
      ...gateways,
      gateway({ id: 'sag-z', name: 'Z', privateCidrs: ['192.168.0.0/24'], ccnId: 'ccn-z' }),
    ],
    ccns: [
      ccn({ id: 'ccn-a', cenId: 'cen-a' }),
      ccn({ id: 'ccn-b', cenId: 'cen-a' }),
      ccn({ id: 'ccn-z', cenId: 'cen-z' }),
    ],
    cens: [cen({ id: 'cen-a' }), cen({ id: 'cen-z' })],
    vpcs: [vpc({ id: 'vpc-1', region: 'cn-shanghai', cidrBlocks: ['10.1.0.0/16'], cenId: 'cen-a' })],
    acls: [acl({ id: 'acl-1' })],
  });
}

const SIX = ['sag-a1', 'sag-a2', 'sag-a3', 'sag-b1', 'sag-b2', 'sag-b3'];

describe('changeScope and gatewaysInScope', () => {
  it('a new VPC block in a CEN with two CCNs selects exactly their six gateways', () => {
    const before = twoCcnTopology();
    const grown = { ...before.vpcs.get('vpc-1')!, cidrBlocks: ['10.1.0.0/16', '10.9.0.0/16'] };
    expect(selected(before, [{ op: 'put', kind: 'vpc', value: grown }])).toEqual(SIX);
  });

  it('moving a VPC between CENs touches both', () => {
    const before = twoCcnTopology();
    const moved = { ...before.vpcs.get('vpc-1')!, cenId: 'cen-z' };
    expect(selected(before, [{ op: 'put', kind: 'vpc', value: moved }])).toEqual([...SIX, 'sag-z']);
  });

  it('a new gateway name or description selects no gateway: no config carries them', () => {
    const before = twoCcnTopology();
    const renamed = { ...before.gateways.get('sag-a2')!, name: 'A2 renamed', description: 'upstairs' };
    expect(selected(before, [{ op: 'put', kind: 'gateway', value: renamed }])).toEqual([]);
  });

  it('a gateway change that keeps its blocks and CCN (ports) selects that gateway alone', () => {
    const before = twoCcnTopology();
    const ports = { wan: [{ name: 'wan0', mode: 'dhcp' as const, priority: 2 }], lan: [] };
    const reported = { ...before.gateways.get('sag-a2')!, ports };
    expect(selected(before, [{ op: 'put', kind: 'gateway', value: reported }])).toEqual(['sag-a2']);
  });

  it('a gateway without blocks joining or leaving a CCN selects that gateway alone', () => {
    const before = twoCcnTopology();
    const bare = { ...before.gateways.get('sag-a2')!, privateCidrs: [] };
    const withBare = applied(before, [{ op: 'put', kind: 'gateway', value: bare }]);
    const moved = { ...bare, ccnId: 'ccn-z' };
    expect(selected(withBare, [{ op: 'put', kind: 'gateway', value: moved }])).toEqual(['sag-a2']);
    const unbound = { ...bare, ccnId: null };
    expect(selected(withBare, [{ op: 'put', kind: 'gateway', value: unbound }])).toEqual(['sag-a2']);
  });

  it('a gateway whose blocks change selects the gateways of its CEN', () => {
    const before = twoCcnTopology();
    const grown = { ...before.gateways.get('sag-a2')!, privateCidrs: ['192.168.77.0/24'] };
    expect(selected(before, [{ op: 'put', kind: 'gateway', value: grown }])).toEqual(SIX);
  });

  it('moving a gateway to another CCN touches the CENs of the old and the new CCN', () => {
    const before = twoCcnTopology();
    const moved = { ...before.gateways.get('sag-a1')!, ccnId: 'ccn-z' };
    expect(selected(before, [{ op: 'put', kind: 'gateway', value: moved }])).toEqual([...SIX, 'sag-z']);
  });

  it('an ACL change selects exactly the gateways using it', () => {
    const before = twoCcnTopology();
    before.gateways.set('sag-b2', { ...before.gateways.get('sag-b2')!, aclId: 'acl-1' });
    before.gateways.set('sag-z', { ...before.gateways.get('sag-z')!, aclId: 'acl-1' });
    const ruled = { ...before.acls.get('acl-1')!, rules: [aclRule({ id: 'r-1', policy: 'drop' })] };
    expect(selected(before, [{ op: 'put', kind: 'acl', value: ruled }])).toEqual(['sag-b2', 'sag-z']);
  });

  it('security groups and instances select no gateway', () => {
    const before = referenceTopology();
    const changes: Change[] = [
      { op: 'put', kind: 'securityGroup', value: securityGroup({ id: 'sg-new', vpcId: 'vpc-sh' }) },
      {
        op: 'put',
        kind: 'instance',
        value: instance({ id: 'i-new', vpcId: 'vpc-sh', privateIp: '10.1.0.99' }),
      },
      { op: 'delete', kind: 'instance', id: 'i-bj' },
    ];
    expect(selected(before, changes)).toEqual([]);
  });

  it('a deleted gateway is not selected, its former peers are', () => {
    const before = twoCcnTopology();
    const chosen = selected(before, [{ op: 'delete', kind: 'gateway', id: 'sag-a3' }]);
    expect(chosen).toEqual(SIX.filter((id) => id !== 'sag-a3'));
  });

  it('bandwidth packages on a CEN select the gateways of its CCNs', () => {
    const before = twoCcnTopology();
    const packaged = {
      ...before.cens.get('cen-z')!,
      bandwidthPackages: [
        { areas: ['asia-pacific', 'china-mainland'] as [string, string], bandwidthMbps: 5 },
      ],
    };
    expect(selected(before, [{ op: 'put', kind: 'cen', value: packaged }])).toEqual(['sag-z']);
  });
});

// Random topologies over small id pools, so that random entities reference each other (and
// sometimes reference entities that do not exist).
const GATEWAY_IDS = ['sag-0', 'sag-1', 'sag-2', 'sag-3', 'sag-4'];
const CCN_IDS = ['ccn-0', 'ccn-1', 'ccn-2'];
const CEN_IDS = ['cen-0', 'cen-1'];
const VPC_IDS = ['vpc-0', 'vpc-1', 'vpc-2'];
const ACL_IDS = ['acl-0', 'acl-1'];
const AREAS = ['china-mainland', 'asia-pacific'];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const gatewayArb = (id: string) =>
  fc
    .record({
      name: fc.constantFrom('G one', 'G two'),
      privateCidrs: fc.subarray(['172.16.0.0/16', '172.17.0.0/16', '192.168.1.0/24']),
      ccnId: maybe(fc.constantFrom(...CCN_IDS)),
      aclId: maybe(fc.constantFrom(...ACL_IDS)),
      serialNumber: maybe(fc.constantFrom('SN-1', 'SN-2')),
      lan: fc.subarray([{ name: 'lan0', address: '172.16.0.1/24' }]),
    })
    .map(({ lan, ...fields }) =>
      gateway({ id, ...fields, ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan } }),
    );

const ccnArb = (id: string) =>
  fc
    .record({
      area: fc.constantFrom(...AREAS),
      cenId: maybe(fc.constantFrom(...CEN_IDS)),
      name: fc.constantFrom('c', 'd'),
    })
    .map((fields) => ccn({ id, ...fields }));

const cenArb = (id: string) =>
  fc
    .record({
      name: fc.constantFrom('e', 'f'),
      bandwidthPackages: fc.subarray([
        { areas: ['asia-pacific', 'china-mainland'] as [string, string], bandwidthMbps: 10 },
      ]),
    })
    .map((fields) => cen({ id, ...fields }));

const vpcArb = (id: string) =>
  fc
    .record({
      region: fc.constantFrom('cn-shanghai', 'ap-southeast-1', 'mars-1'),
      cidrBlocks: fc.subarray(['10.1.0.0/16', '10.2.0.0/16']),
      cenId: maybe(fc.constantFrom(...CEN_IDS)),
      name: fc.constantFrom('v', 'w'),
    })
    .map((fields) => vpc({ id, ...fields }));

const aclArb = (id: string) =>
  fc
    .array(
      fc.record({
        priority: fc.integer({ min: 1, max: 3 }),
        policy: fc.constantFrom('accept' as const, 'drop' as const),
      }),
      { maxLength: 3 },
    )
    .map((rules) =>
      acl({ id, rules: rules.map((rule, index) => aclRule({ id: `${id}-r${index}`, ...rule })) }),
    );

function presentOrNot<T>(ids: string[], arb: (id: string) => fc.Arbitrary<T>) {
  return fc.tuple(...ids.map((id) => fc.option(arb(id), { nil: undefined })));
}

const topologyArb = fc
  .record({
    gateways: presentOrNot(GATEWAY_IDS, gatewayArb),
    ccns: presentOrNot(CCN_IDS, ccnArb),
    cens: presentOrNot(CEN_IDS, cenArb),
    vpcs: presentOrNot(VPC_IDS, vpcArb),
    acls: presentOrNot(ACL_IDS, aclArb),
  })
  .map((entities) =>
    topologyOf({
      gateways: entities.gateways.filter((e) => e !== undefined),
      ccns: entities.ccns.filter((e) => e !== undefined),
      cens: entities.cens.filter((e) => e !== undefined),
      vpcs: entities.vpcs.filter((e) => e !== undefined),
      acls: entities.acls.filter((e) => e !== undefined),
    }),
  );

const TARGETS: [EntityKind, string][] = [
  ...GATEWAY_IDS.map((id): [EntityKind, string] => ['gateway', id]),
  ...CCN_IDS.map((id): [EntityKind, string] => ['ccn', id]),
  ...CEN_IDS.map((id): [EntityKind, string] => ['cen', id]),
  ...VPC_IDS.map((id): [EntityKind, string] => ['vpc', id]),
  ...ACL_IDS.map((id): [EntityKind, string] => ['acl', id]),
];

/** One entity of `before` replaced by its counterpart in `other`: a put, or a delete when absent. */
function singleChange(before: Topology, other: Topology, [kind, id]: [EntityKind, string]): Change | null {
  const replacement = collection(other, kind).get(id);
  if (replacement) return { op: 'put', kind, value: replacement } as Change;
  return collection(before, kind).has(id) ? { op: 'delete', kind, id } : null;
}

function hashes(topology: Topology): Map<string, string> {
  const result = new Map<string, string>();
  for (const id of topology.gateways.keys()) {
    result.set(id, configHash(compileGatewayConfig(topology, id, SCENARIO_SETTINGS)));
  }
  return result;
}

describe('gatewaysInScope is never too small', () => {
  it('selects every gateway whose compiled config changed, for random single changes', () => {
    fc.assert(
      fc.property(topologyArb, topologyArb, fc.constantFrom(...TARGETS), (before, other, target) => {
        const change = singleChange(before, other, target);
        fc.pre(change !== null);
        const after = applied(before, [change!]);
        const scope = gatewaysInScope(after, changeScope(before, [change!]));
        const old = hashes(before);
        for (const [id, hash] of hashes(after)) {
          if (old.get(id) !== hash) expect(scope, `${id} changed but was not selected`).toContain(id);
        }
        for (const id of scope) expect(after.gateways.has(id)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
