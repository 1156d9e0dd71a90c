import type { Change, Changeset, EntityKind, EntityKinds, Topology } from './types.js';

const COLLECTIONS: { [K in EntityKind]: (topology: Topology) => Map<string, EntityKinds[K]> } = {
  gateway: (t) => t.gateways,
  ccn: (t) => t.ccns,
  cen: (t) => t.cens,
  vpc: (t) => t.vpcs,
  instance: (t) => t.instances,
  securityGroup: (t) => t.securityGroups,
  acl: (t) => t.acls,
};

/** The map of a topology that holds entities of `kind`. */
export function collectionOf<K extends EntityKind>(topology: Topology, kind: K): Map<string, EntityKinds[K]> {
  return COLLECTIONS[kind](topology);
}

function restore(kind: EntityKind, id: string, previous: EntityKinds[EntityKind] | undefined): Change {
  return previous === undefined
    ? { op: 'delete', kind, id }
    : ({ op: 'put', kind, value: previous } as Change);
}

/**
 * Applies changes to the topology's maps in place and returns the changes that undo them, in
 * the order they must be applied.
 */
export function applyChanges(topology: Topology, changes: readonly Change[]): Change[] {
  const inverse: Change[] = [];
  for (const change of changes) {
    const map = collectionOf(topology, change.kind) as Map<string, EntityKinds[EntityKind]>;
    const id = change.op === 'put' ? change.value.id : change.id;
    inverse.push(restore(change.kind, id, map.get(id)));
    if (change.op === 'put') map.set(id, change.value);
    else map.delete(id);
  }
  return inverse.reverse();
}

/** Applies a changeset in place; the result undoes it (the service uses it when a store write fails). */
export function applyChangeset(topology: Topology, changeset: Changeset): Change[] {
  return applyChanges(topology, changeset.changes);
}

/** The topology as it would be after `changes`, leaving the given one untouched (maps copied, entities shared). */
export function previewChanges(topology: Topology, changes: readonly Change[]): Topology {
  const copy: Topology = {
    gateways: new Map(topology.gateways),
    ccns: new Map(topology.ccns),
    cens: new Map(topology.cens),
    vpcs: new Map(topology.vpcs),
    instances: new Map(topology.instances),
    securityGroups: new Map(topology.securityGroups),
    acls: new Map(topology.acls),
  };
  applyChanges(copy, changes);
  return copy;
}
