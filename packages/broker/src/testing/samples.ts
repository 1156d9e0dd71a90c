import type { Acl, Ccn, Cen, Change, Gateway, Instance, SecurityGroup, Vpc } from '../domain/types.js';
import type { CompiledConfigRecord, DeviceStateRecord, Mutation } from '../store/store.js';

/**
 * Sample entities and mutations for the store's tests (and the durability child process). They
 * are shaped like what the domain writes but obey no domain rule: the store checks none.
 */

const CREATED_AT = '2024-05-01T08:00:00.000Z';

export function sampleGateway(id: string, fields: Partial<Gateway> = {}): Gateway {
  return {
    id,
    name: `branch ${id}`,
    area: 'cn-hangzhou',
    spec: 'sag-100wm',
    bandwidthMbps: 10,
    subscriptionMonths: 12,
    createdAt: CREATED_AT,
    lifecycle: 'ordered',
    serialNumber: null,
    publicKey: null,
    activatedAt: null,
    expiresAt: null,
    privateCidrs: ['172.16.0.0/16'],
    ccnId: null,
    aclId: null,
    ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [{ name: 'lan0', address: '172.16.0.1/24' }] },
    ...fields,
  };
}

export function sampleCcn(id: string, fields: Partial<Ccn> = {}): Ccn {
  return { id, name: `ccn ${id}`, area: 'cn-hangzhou', cenId: null, createdAt: CREATED_AT, ...fields };
}

export function sampleCen(id: string): Cen {
  return {
    id,
    name: `cen ${id}`,
    bandwidthPackages: [{ areas: ['cn-hangzhou', 'cn-shanghai'], bandwidthMbps: 10 }],
    createdAt: CREATED_AT,
  };
}

export function sampleVpc(id: string): Vpc {
  return {
    id,
    name: `vpc ${id}`,
    region: 'cn-shanghai',
    cidrBlocks: ['192.168.0.0/16'],
    cenId: null,
    createdAt: CREATED_AT,
  };
}

export function sampleInstance(id: string, vpcId: string): Instance {
  return {
    id,
    name: `instance ${id}`,
    vpcId,
    privateIp: '192.168.1.10',
    securityGroupIds: [],
    createdAt: CREATED_AT,
  };
}

export function sampleSecurityGroup(id: string, vpcId: string): SecurityGroup {
  return {
    id,
    name: `sg ${id}`,
    vpcId,
    rules: [
      {
        id: `sgr-${id}`,
        direction: 'ingress',
        policy: 'accept',
        priority: 1,
        protocol: 'tcp',
        portRange: '22/22',
        cidr: '172.16.0.0/16',
        createdAt: CREATED_AT,
      },
    ],
    createdAt: CREATED_AT,
  };
}

export function sampleAcl(id: string): Acl {
  return {
    id,
    name: `acl ${id}`,
    rules: [
      {
        id: `aclr-${id}`,
        direction: 'out',
        policy: 'drop',
        priority: 1,
        protocol: 'all',
        sourceCidr: '0.0.0.0/0',
        sourcePortRange: '-1/-1',
        destCidr: '0.0.0.0/0',
        destPortRange: '-1/-1',
        createdAt: CREATED_AT,
      },
    ],
    createdAt: CREATED_AT,
  };
}

export function sampleConfig(gatewayId: string, revision: number): CompiledConfigRecord {
  return {
    gatewayId,
    revision,
    hash: `hash-${gatewayId}-${revision}`,
    config: { gatewayId, routes: [{ destination: '192.168.0.0/16', nextHop: 'tunnel' }], revision },
    compiledAt: CREATED_AT,
  };
}

export function sampleDeviceState(gatewayId: string, serialNumber: string): DeviceStateRecord {
  return {
    gatewayId,
    serialNumber,
    presence: 'online',
    lastSeenAt: CREATED_AT,
    appliedRevision: 1,
    appliedHash: `hash-${gatewayId}-1`,
    sync: 'in-sync',
    syncError: null,
    report: { tunnels: [{ accessPoint: 'ap-embedded', state: 'up', rttMs: 3 }] },
  };
}

/** A mutation of the given changes, audited as an update of the first changed resource. */
export function sampleMutation(changes: Change[], fields: Partial<Mutation> = {}): Mutation {
  const first = changes[0];
  const resourceId = first.op === 'put' ? first.value.id : first.id;
  return {
    changeset: {
      changes,
      audit: {
        action: `${first.kind}.update`,
        resourceType: first.kind,
        resourceId,
        before: null,
        after: first.op === 'put' ? first.value : null,
      },
    },
    actor: 'api',
    at: new Date(CREATED_AT),
    configs: [],
    removedConfigs: [],
    ...fields,
  };
}

/** The typical mutation of a gateway: the entity, its recompiled config, and the audit event. */
export function gatewayMutation(gateway: Gateway, revision = 1): Mutation {
  return sampleMutation([{ op: 'put', kind: 'gateway', value: gateway }], {
    configs: [sampleConfig(gateway.id, revision)],
  });
}
