import { applyChangeset, collectionOf } from '../domain/apply.js';
import {
  activateGateway,
  addSecurityGroupRule,
  attachToCen,
  bindDevice,
  createCcn,
  createCen,
  createGateway,
  createInstance,
  createSecurityGroup,
  createVpc,
  setNetwork,
} from '../domain/operations/index.js';
import {
  type Changeset,
  type EntityKinds,
  emptyTopology,
  type OperationContext,
  type Topology,
} from '../domain/types.js';
import { fixedContext } from './fixedContext.js';

/**
 * The cloud side of the reference scenario (SPEC §2), built only through domain operations: the
 * Hangzhou and Ningbo branches in one CCN, attached to the CEN that holds the Shanghai and
 * Beijing VPCs, each VPC with one instance in one security group.
 */

/** Applies a changeset and returns the entity it created or updated. */
export function applyAndGet<T extends EntityKinds[keyof EntityKinds]>(
  topology: Topology,
  changeset: Changeset,
): T {
  applyChangeset(topology, changeset);
  const { resourceType, resourceId } = changeset.audit;
  return collectionOf(topology, resourceType).get(resourceId) as T;
}

export interface ReferenceCloud {
  topology: Topology;
  ctx: OperationContext;
  hangzhou: string;
  ningbo: string;
  ccn: string;
  cen: string;
  shanghaiVpc: string;
  beijingVpc: string;
  shanghaiGroup: string;
  beijingGroup: string;
  shanghaiInstance: string;
  beijingInstance: string;
}

export interface ReferenceCloudOptions {
  ctx?: OperationContext;
  /** Step 5: authorize the branch blocks on tcp/22 in both security groups. */
  securityGroupRules?: boolean;
}

/** A public key for the scenario's devices: standard base64 of 32 fixed bytes. */
export function scenarioPublicKey(seed: number): string {
  return Buffer.alloc(32, seed).toString('base64');
}

function buyAndActivate(
  topology: Topology,
  ctx: OperationContext,
  name: string,
  serial: string,
  seed: number,
) {
  const gateway = applyAndGet(
    topology,
    createGateway(topology, ctx, {
      name,
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
    }),
  );
  applyAndGet(
    topology,
    bindDevice(topology, ctx, gateway.id, { serialNumber: serial, publicKey: scenarioPublicKey(seed) }),
  );
  applyAndGet(topology, activateGateway(topology, ctx, gateway.id));
  return gateway.id;
}

function vpcWithInstance(
  topology: Topology,
  ctx: OperationContext,
  city: string,
  region: string,
  block: string,
) {
  const vpc = applyAndGet(
    topology,
    createVpc(topology, ctx, { name: `${city} VPC`, region, cidrBlocks: [block] }),
  );
  const group = applyAndGet(
    topology,
    createSecurityGroup(topology, ctx, { name: `${city} web`, vpcId: vpc.id }),
  );
  const privateIp = block.replace(/\.0\.0\/16$/, '.0.10');
  const instance = applyAndGet(
    topology,
    createInstance(topology, ctx, {
      name: `${city} web 1`,
      vpcId: vpc.id,
      privateIp,
      securityGroupIds: [group.id],
    }),
  );
  return { vpc: vpc.id, group: group.id, instance: instance.id };
}

export function buildReferenceCloud(options: ReferenceCloudOptions = {}): ReferenceCloud {
  const topology = emptyTopology();
  const ctx = options.ctx ?? fixedContext();
  const hangzhou = buyAndActivate(topology, ctx, 'Hangzhou branch', 'SN-HZ-0001', 1);
  const ningbo = buyAndActivate(topology, ctx, 'Ningbo branch', 'SN-NB-0001', 2);
  const cen = applyAndGet(topology, createCen(topology, ctx, { name: 'Company network' })).id;
  const shanghai = vpcWithInstance(topology, ctx, 'Shanghai', 'cn-shanghai', '10.1.0.0/16');
  const beijing = vpcWithInstance(topology, ctx, 'Beijing', 'cn-beijing', '10.2.0.0/16');
  for (const vpc of [shanghai.vpc, beijing.vpc]) {
    applyAndGet(topology, attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: vpc }));
  }
  const ccn = applyAndGet(
    topology,
    createCcn(topology, ctx, { name: 'Branches', area: 'china-mainland' }),
  ).id;
  applyAndGet(
    topology,
    setNetwork(topology, ctx, hangzhou, { privateCidrs: ['172.16.0.0/16'], ccnId: ccn, cenId: cen }),
  );
  applyAndGet(topology, setNetwork(topology, ctx, ningbo, { privateCidrs: ['172.17.0.0/16'], ccnId: ccn }));
  if (options.securityGroupRules) {
    for (const group of [shanghai.group, beijing.group]) {
      for (const cidr of ['172.16.0.0/16', '172.17.0.0/16']) {
        const rule = {
          direction: 'ingress',
          policy: 'accept',
          priority: 1,
          protocol: 'tcp',
          portRange: '22/22',
          cidr,
        };
        applyAndGet(topology, addSecurityGroupRule(topology, ctx, group, rule));
      }
    }
  }
  return {
    topology,
    ctx,
    hangzhou,
    ningbo,
    ccn,
    cen,
    shanghaiVpc: shanghai.vpc,
    beijingVpc: beijing.vpc,
    shanghaiGroup: shanghai.group,
    beijingGroup: beijing.group,
    shanghaiInstance: shanghai.instance,
    beijingInstance: beijing.instance,
  };
}
