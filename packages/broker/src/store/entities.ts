import type { EntityKind, EntityKinds, Gateway, Topology } from '../domain/types.js';
import { SagError } from '../errors.js';
import { encodeJson } from './json.js';

/**
 * Where each kind of entity lives: its table, its collection in the topology, and the fields
 * copied into columns of their own so they can be indexed or constrained.
 */
export interface EntityTable<K extends EntityKind = EntityKind> {
  table: string;
  collection: keyof Topology;
  columns: Record<string, (entity: EntityKinds[K]) => string | null>;
}

export const ENTITY_TABLES: { [K in EntityKind]: EntityTable<K> } = {
  gateway: {
    table: 'gateways',
    collection: 'gateways',
    columns: {
      serial_number: (g) => g.serialNumber,
      ccn_id: (g) => g.ccnId,
      acl_id: (g) => g.aclId,
    },
  },
  ccn: { table: 'ccns', collection: 'ccns', columns: { cen_id: (c) => c.cenId } },
  cen: { table: 'cens', collection: 'cens', columns: {} },
  vpc: { table: 'vpcs', collection: 'vpcs', columns: { cen_id: (v) => v.cenId } },
  instance: { table: 'instances', collection: 'instances', columns: { vpc_id: (i) => i.vpcId } },
  securityGroup: {
    table: 'security_groups',
    collection: 'securityGroups',
    columns: { vpc_id: (s) => s.vpcId },
  },
  acl: { table: 'acls', collection: 'acls', columns: {} },
};

/**
 * A device serial number identifies one gateway. Both stores refuse a second holder at the
 * moment of the write, so a mutation that moves a serial must release it before binding it.
 */
export function serialNumberTaken(gateway: Gateway, holderId: string): SagError {
  return new SagError(
    'ALREADY_BOUND',
    `serial number ${gateway.serialNumber} cannot be bound to gateway ${gateway.id} (${gateway.name}): ` +
      `it is already bound to gateway ${holderId}`,
    { serialNumber: gateway.serialNumber, gatewayId: gateway.id, boundTo: holderId },
  );
}

/** The row written for an entity: its JSON document plus its indexed columns. */
export function toEntityRow<K extends EntityKind>(
  kind: K,
  entity: EntityKinds[K],
): Record<string, string | null> {
  const row: Record<string, string | null> = {
    id: entity.id,
    data: encodeJson(entity),
    created_at: entity.createdAt,
  };
  const columns = ENTITY_TABLES[kind].columns as EntityTable<K>['columns'];
  for (const [column, read] of Object.entries(columns)) row[column] = read(entity);
  return row;
}
