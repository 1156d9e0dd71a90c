import type { CompileSettings } from '../compile/types.js';
import type {
  Acl,
  AclRule,
  Ccn,
  Cen,
  Gateway,
  Instance,
  SecurityGroup,
  SecurityGroupRule,
  Topology,
  Vpc,
} from '../domain/types.js';
import { emptyTopology } from '../domain/types.js';

/**
 * The reference scenario of SPEC §2 written out as a topology (after step 4, before step 5), with
 * builders for its kinds of entity. The compiler's tests start from it; it needs no domain
 * operations, so it shows exactly what state the compiler sees.
 */

const CREATED = '2025-01-01T00:00:00.000Z';
export const SCENARIO_NOW = new Date('2025-01-15T00:00:00.000Z');

export const SCENARIO_SETTINGS: CompileSettings = {
  accessPoints: [
    {
      id: 'ap-shanghai',
      address: '127.0.0.1:7000',
      publicKey: 'c2hhbmdoYWktYWNjZXNzLXBvaW50LWtleS0wMDAwMDA=',
    },
    { id: 'ap-beijing', address: '127.0.0.1:7001' },
  ],
  keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 5000 },
};

export function gateway(fields: Partial<Gateway> & Pick<Gateway, 'id' | 'name'>): Gateway {
  return {
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
    createdAt: CREATED,
    lifecycle: 'active',
    serialNumber: `SN-${fields.id}`,
    publicKey: null,
    activatedAt: CREATED,
    expiresAt: '2025-02-01T00:00:00.000Z',
    privateCidrs: [],
    ccnId: null,
    aclId: null,
    ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
    ...fields,
  };
}

export function ccn(fields: Partial<Ccn> & Pick<Ccn, 'id'>): Ccn {
  return { name: fields.id, area: 'china-mainland', cenId: null, createdAt: CREATED, ...fields };
}

export function cen(fields: Partial<Cen> & Pick<Cen, 'id'>): Cen {
  return { name: fields.id, bandwidthPackages: [], createdAt: CREATED, ...fields };
}

export function vpc(fields: Partial<Vpc> & Pick<Vpc, 'id' | 'region' | 'cidrBlocks'>): Vpc {
  return { name: fields.id, cenId: null, createdAt: CREATED, ...fields };
}

export function instance(fields: Partial<Instance> & Pick<Instance, 'id' | 'vpcId' | 'privateIp'>): Instance {
  return { name: fields.id, securityGroupIds: [], createdAt: CREATED, ...fields };
}

export function securityGroup(
  fields: Partial<SecurityGroup> & Pick<SecurityGroup, 'id' | 'vpcId'>,
): SecurityGroup {
  return { name: fields.id, rules: [], createdAt: CREATED, ...fields };
}

export function securityGroupRule(
  fields: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'id'>,
): SecurityGroupRule {
  return {
    direction: 'ingress',
    policy: 'accept',
    priority: 1,
    protocol: 'tcp',
    portRange: '-1/-1',
    cidr: '0.0.0.0/0',
    createdAt: CREATED,
    ...fields,
  };
}

export function acl(fields: Partial<Acl> & Pick<Acl, 'id'>): Acl {
  return { name: fields.id, rules: [], createdAt: CREATED, ...fields };
}

export function aclRule(fields: Partial<AclRule> & Pick<AclRule, 'id'>): AclRule {
  return {
    direction: 'out',
    policy: 'accept',
    priority: 1,
    protocol: 'all',
    sourceCidr: '0.0.0.0/0',
    sourcePortRange: '-1/-1',
    destCidr: '0.0.0.0/0',
    destPortRange: '-1/-1',
    createdAt: CREATED,
    ...fields,
  };
}

export function topologyOf(entities: {
  gateways?: Gateway[];
  ccns?: Ccn[];
  cens?: Cen[];
  vpcs?: Vpc[];
  instances?: Instance[];
  securityGroups?: SecurityGroup[];
  acls?: Acl[];
}): Topology {
  const topology = emptyTopology();
  for (const value of entities.gateways ?? []) topology.gateways.set(value.id, value);
  for (const value of entities.ccns ?? []) topology.ccns.set(value.id, value);
  for (const value of entities.cens ?? []) topology.cens.set(value.id, value);
  for (const value of entities.vpcs ?? []) topology.vpcs.set(value.id, value);
  for (const value of entities.instances ?? []) topology.instances.set(value.id, value);
  for (const value of entities.securityGroups ?? []) topology.securityGroups.set(value.id, value);
  for (const value of entities.acls ?? []) topology.acls.set(value.id, value);
  return topology;
}

/**
 * Hangzhou (172.16.0.0/16) and Ningbo (172.17.0.0/16) in ccn-branches, attached to cen-main with
 * the Shanghai VPC (10.1.0.0/16) and the Beijing VPC (10.2.0.0/16), one instance in each VPC whose
 * security group has no rules yet, and an ACL with no rules that no gateway uses yet.
 */
export function referenceTopology(): Topology {
  return topologyOf({
    gateways: [
      gateway({
        id: 'sag-hz',
        name: 'Hangzhou branch',
        privateCidrs: ['172.16.0.0/16'],
        ccnId: 'ccn-branches',
      }),
      gateway({
        id: 'sag-nb',
        name: 'Ningbo branch',
        privateCidrs: ['172.17.0.0/16'],
        ccnId: 'ccn-branches',
      }),
    ],
    ccns: [ccn({ id: 'ccn-branches', name: 'branches', cenId: 'cen-main' })],
    cens: [cen({ id: 'cen-main', name: 'main' })],
    vpcs: [
      vpc({
        id: 'vpc-sh',
        name: 'Shanghai VPC',
        region: 'cn-shanghai',
        cidrBlocks: ['10.1.0.0/16'],
        cenId: 'cen-main',
      }),
      vpc({
        id: 'vpc-bj',
        name: 'Beijing VPC',
        region: 'cn-beijing',
        cidrBlocks: ['10.2.0.0/16'],
        cenId: 'cen-main',
      }),
    ],
    instances: [
      instance({
        id: 'i-sh',
        name: 'shanghai-web',
        vpcId: 'vpc-sh',
        privateIp: '10.1.0.10',
        securityGroupIds: ['sg-sh'],
      }),
      instance({
        id: 'i-bj',
        name: 'beijing-web',
        vpcId: 'vpc-bj',
        privateIp: '10.2.0.10',
        securityGroupIds: ['sg-bj'],
      }),
    ],
    securityGroups: [
      securityGroup({ id: 'sg-sh', name: 'web', vpcId: 'vpc-sh' }),
      securityGroup({ id: 'sg-bj', name: 'web', vpcId: 'vpc-bj' }),
    ],
    acls: [acl({ id: 'acl-branch', name: 'branch-acl' })],
  });
}
