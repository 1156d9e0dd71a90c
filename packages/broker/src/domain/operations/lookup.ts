import { SagError } from '../../errors.js';
import { collectionOf } from '../apply.js';
import type { EntityKind, EntityKinds, Topology } from '../types.js';

/** How each kind is named in messages. */
export const KIND_WORDS: Readonly<Record<EntityKind, string>> = {
  gateway: 'gateway',
  ccn: 'CCN',
  cen: 'CEN',
  vpc: 'VPC',
  instance: 'instance',
  securityGroup: 'security group',
  acl: 'ACL',
};

/** The entity with that id, or NOT_FOUND ("gateway sag-xyz not found"). */
export function findEntity<K extends EntityKind>(topology: Topology, kind: K, id: string): EntityKinds[K] {
  const entity = typeof id === 'string' ? collectionOf(topology, kind).get(id) : undefined;
  if (!entity) {
    throw new SagError('NOT_FOUND', `${KIND_WORDS[kind]} ${String(id)} not found`, { kind, id });
  }
  return entity;
}

/** "gateway sag-1a9 (Hangzhou branch)": how messages name a resource. */
export function label(kind: EntityKind, entity: { id: string; name: string }): string {
  return `${KIND_WORDS[kind]} ${entity.id} (${entity.name})`;
}

/** Up to five ids for a message, then how many more. */
export function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 5).join(', ');
  return ids.length > 5 ? `${shown} and ${ids.length - 5} more` : shown;
}
