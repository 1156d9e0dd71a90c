import type { Change, Changeset, EntityKind, EntityKinds } from '../types.js';

/** Builders for the Changesets operations return; the audited entity's put always comes last. */

export function put<K extends EntityKind>(kind: K, value: EntityKinds[K]): Change {
  return { op: 'put', kind, value } as Change;
}

export function remove(kind: EntityKind, id: string): Change {
  return { op: 'delete', kind, id };
}

/** A deep copy, so a new entity never shares arrays with the one in the topology. */
export function copy<T>(entity: T): T {
  return structuredClone(entity);
}

export function created<K extends EntityKind>(
  action: string,
  kind: K,
  entity: EntityKinds[K],
  before: Change[] = [],
): Changeset {
  return {
    changes: [...before, put(kind, entity)],
    audit: { action, resourceType: kind, resourceId: entity.id, before: null, after: entity },
  };
}

export function updated<K extends EntityKind>(
  action: string,
  kind: K,
  previous: EntityKinds[K],
  next: EntityKinds[K],
  before: Change[] = [],
): Changeset {
  return {
    changes: [...before, put(kind, next)],
    audit: { action, resourceType: kind, resourceId: next.id, before: previous, after: next },
  };
}

export function deleted<K extends EntityKind>(action: string, kind: K, previous: EntityKinds[K]): Changeset {
  return {
    changes: [remove(kind, previous.id)],
    audit: { action, resourceType: kind, resourceId: previous.id, before: previous, after: null },
  };
}
