import { describe, expect, it } from 'vitest';
import { applyAndGet, buildReferenceCloud, scenarioPublicKey } from '../../testing/referenceCloud.js';
import { collectionOf } from '../apply.js';
import type { Changeset, OperationContext, Topology } from '../types.js';
import * as ops from './index.js';

/** Freezes every entity (and everything inside it) so an in-place write throws. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function freezeTopology(topology: Topology): void {
  for (const map of Object.values(topology) as Map<string, object>[])
    for (const entity of map.values()) deepFreeze(entity);
}

const rule = {
  direction: 'out',
  policy: 'drop',
  priority: 5,
  protocol: 'tcp',
  sourceCidr: '0.0.0.0/0',
  sourcePortRange: '-1/-1',
  destCidr: '10.1.0.0/16',
  destPortRange: '22/22',
};

describe('operations are pure', () => {
  it('never mutate the topology they are given, whether they succeed or refuse', () => {
    const cloud = buildReferenceCloud({ securityGroupRules: true });
    const { topology, ctx } = cloud;
    const acl = applyAndGet(topology, ops.createAcl(topology, ctx, { name: 'Office' }));
    applyAndGet(topology, ops.addAclRule(topology, ctx, acl.id, rule));
    applyAndGet(topology, ops.setGatewayAcl(topology, ctx, cloud.hangzhou, { aclId: acl.id }));
    const spare = applyAndGet(
      topology,
      ops.createCcn(topology, ctx, { name: 'Spare', area: 'china-mainland' }),
    );
    freezeTopology(topology);
    const before = structuredClone(topology);
    const sgRuleId = topology.securityGroups.get(cloud.shanghaiGroup)!.rules[0].id;
    const calls: ((t: Topology, c: OperationContext) => Changeset)[] = [
      (t, c) =>
        ops.createGateway(t, c, {
          name: 'Wenzhou',
          area: 'china-mainland',
          spec: 'sag-1000',
          bandwidthMbps: 10,
          subscriptionMonths: 1,
        }),
      (t, c) => ops.updateGateway(t, c, cloud.hangzhou, { name: 'Renamed', bandwidthMbps: 3 }),
      (t, c) => ops.deleteGateway(t, c, cloud.hangzhou),
      (t, c) => ops.activateGateway(t, c, cloud.hangzhou),
      (t, c) => ops.renewGateway(t, c, cloud.hangzhou, { subscriptionMonths: 12 }),
      (t, c) => ops.unbindDevice(t, c, cloud.hangzhou),
      (t, c) =>
        ops.bindDevice(t, c, cloud.hangzhou, { serialNumber: 'SN-9', publicKey: scenarioPublicKey(9) }),
      (t, c) =>
        ops.setPorts(t, c, cloud.hangzhou, {
          wan: [{ name: 'wan0', mode: 'dhcp' }],
          lan: [{ name: 'lan0', address: '172.16.0.1/24' }],
        }),
      (t, c) =>
        ops.setNetwork(t, c, cloud.ningbo, {
          privateCidrs: ['172.18.0.0/16'],
          ccnId: spare.id,
          cenId: cloud.cen,
        }),
      (t, c) => ops.setNetwork(t, c, cloud.ningbo, { privateCidrs: ['172.16.0.0/12'], ccnId: cloud.ccn }),
      (t, c) => ops.setGatewayAcl(t, c, cloud.ningbo, { aclId: acl.id }),
      (t, c) => ops.removeGatewayAcl(t, c, cloud.hangzhou),
      (t, c) => ops.bindCcnGateway(t, c, spare.id, { gatewayId: cloud.ningbo }),
      (t, c) => ops.unbindCcnGateway(t, c, cloud.ccn, cloud.ningbo),
      (t, c) => ops.deleteCcn(t, c, spare.id),
      (t, c) => ops.attachToCen(t, c, cloud.cen, { instanceType: 'ccn', instanceId: spare.id }),
      (t, c) => ops.detachFromCen(t, c, cloud.cen, cloud.shanghaiVpc),
      (t, c) =>
        ops.setBandwidthPackages(t, c, cloud.cen, [
          { areas: ['europe', 'china-mainland'], bandwidthMbps: 5 },
        ]),
      (t, c) => ops.deleteCen(t, c, cloud.cen),
      (t, c) => ops.createVpc(t, c, { name: 'New VPC', region: 'cn-qingdao', cidrBlocks: ['10.7.0.0/16'] }),
      (t, c) => ops.deleteVpc(t, c, cloud.beijingVpc),
      (t, c) =>
        ops.createInstance(t, c, {
          name: 'db',
          vpcId: cloud.shanghaiVpc,
          privateIp: '10.1.0.11',
          securityGroupIds: [cloud.shanghaiGroup],
        }),
      (t, c) => ops.deleteInstance(t, c, cloud.shanghaiInstance),
      (t, c) => ops.createSecurityGroup(t, c, { name: 'Admin', vpcId: cloud.shanghaiVpc }),
      (t, c) => ops.deleteSecurityGroup(t, c, cloud.shanghaiGroup),
      (t, c) =>
        ops.addSecurityGroupRule(t, c, cloud.shanghaiGroup, {
          direction: 'egress',
          policy: 'drop',
          priority: 2,
          protocol: 'udp',
          portRange: '53/53',
          cidr: '0.0.0.0/0',
        }),
      (t, c) => ops.removeSecurityGroupRule(t, c, cloud.shanghaiGroup, sgRuleId),
      (t, c) => ops.createAcl(t, c, { name: 'Another' }),
      (t, c) => ops.deleteAcl(t, c, acl.id),
      (t, c) => ops.addAclRule(t, c, acl.id, rule),
      (t, c) => ops.updateAclRule(t, c, acl.id, 'aclr-1', { priority: 7 }),
      (t, c) => ops.removeAclRule(t, c, acl.id, 'aclr-1'),
    ];
    let succeeded = 0;
    for (const call of calls) {
      try {
        const changeset = call(topology, ctx);
        succeeded++;
        for (const change of changeset.changes) {
          if (change.op === 'put')
            expect(change.value).not.toBe(collectionOf(topology, change.kind).get(change.value.id));
        }
      } catch (err) {
        expect(err).toHaveProperty('code');
        expect((err as Error).name).toBe('SagError');
      }
    }
    expect(succeeded).toBeGreaterThan(20);
    expect(topology).toEqual(before);
  });
});
