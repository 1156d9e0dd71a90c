import { collectionOf } from '../domain/apply.js';
import type { Change, EntityKind, EntityKinds, Topology } from '../domain/types.js';

/**
 * Incremental recompilation (SPEC §5 "A change re-compiles only the gateways it affects"): which
 * gateways, CCNs, CENs and ACLs a set of changes touches, judged from both the old values and the
 * new ones, since moving a gateway or VPC affects the place it left as much as the place it joined.
 */
export interface ChangeScope {
  gatewayIds: Set<string>;
  ccnIds: Set<string>;
  cenIds: Set<string>;
  aclIds: Set<string>;
}

function add(set: Set<string>, id: string | null | undefined): void {
  if (id) set.add(id);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** Fields of a gateway that only label it for operators. */
const LABELS = new Set(['name', 'description']);

function onlyLabelsDiffer(old: EntityKinds['gateway'], next: EntityKinds['gateway']): boolean {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  for (const key of keys) {
    if (LABELS.has(key)) continue;
    const a = (old as unknown as Record<string, unknown>)[key];
    const b = (next as unknown as Record<string, unknown>)[key];
    if (a !== b && JSON.stringify(a) !== JSON.stringify(b)) return false;
  }
  return true;
}

/** The entity a change replaces (from `before`) and the one it writes (from the change), if any. */
function valuesOf(before: Topology, change: Change): { kind: EntityKind; id: string; values: unknown[] } {
  const id = change.op === 'put' ? change.value.id : change.id;
  const old = collectionOf(before, change.kind).get(id);
  const values: unknown[] = [old, change.op === 'put' ? change.value : undefined].filter(Boolean);
  return { kind: change.kind, id, values };
}

function touch(scope: ChangeScope, before: Topology, change: Change): void {
  const { kind, id, values } = valuesOf(before, change);
  switch (kind) {
    case 'gateway': {
      const [old, next] = [before.gateways.get(id), change.op === 'put' ? change.value : undefined] as [
        EntityKinds['gateway'] | undefined,
        EntityKinds['gateway'] | undefined,
      ];
      // A new name or description is for people: no config carries it, so nothing recompiles.
      if (old && next && onlyLabelsDiffer(old, next)) return;
      scope.gatewayIds.add(id);
      // Peers learn only a gateway's blocks, through its CCN: a change that keeps both (ports,
      // ACL, lifecycle), or a gateway without blocks before and after, reaches no other gateway.
      if (old && next && sameList(old.privateCidrs, next.privateCidrs)) {
        if (old.ccnId === next.ccnId || next.privateCidrs.length === 0) return;
      }
      if (!old && next && next.privateCidrs.length === 0) return;
      if (old && !next && old.privateCidrs.length === 0) return;
      for (const value of values as EntityKinds['gateway'][]) add(scope.ccnIds, value.ccnId);
      return;
    }
    case 'ccn':
      scope.ccnIds.add(id);
      for (const value of values as EntityKinds['ccn'][]) add(scope.cenIds, value.cenId);
      return;
    case 'cen':
      scope.cenIds.add(id);
      return;
    case 'vpc':
      for (const value of values as EntityKinds['vpc'][]) add(scope.cenIds, value.cenId);
      return;
    case 'acl':
      scope.aclIds.add(id);
      // A deleted ACL is gone from the topology after the change; its users are found here.
      for (const gateway of before.gateways.values())
        if (gateway.aclId === id) scope.gatewayIds.add(gateway.id);
      return;
    case 'instance':
    case 'securityGroup':
      // Cloud-side only: no gateway config mentions instances or security groups.
      return;
  }
}

export function changeScope(topologyBefore: Topology, changes: readonly Change[]): ChangeScope {
  const scope: ChangeScope = {
    gatewayIds: new Set(),
    ccnIds: new Set(),
    cenIds: new Set(),
    aclIds: new Set(),
  };
  for (const change of changes) touch(scope, topologyBefore, change);
  return scope;
}

/**
 * The gateways of `topologyAfter` whose compiled config may differ because of the changes: members
 * of touched CCNs and of every CCN attached to a touched CEN, touched gateways, and users of touched
 * ACLs. Deleted gateways are left out (they have no config to compile).
 */
export function gatewaysInScope(topologyAfter: Topology, scope: ChangeScope): Set<string> {
  // Only gateways touched (ports, ACL binding, name): no need to walk the whole fleet.
  if (scope.ccnIds.size === 0 && scope.cenIds.size === 0 && scope.aclIds.size === 0)
    return new Set([...scope.gatewayIds].filter((id) => topologyAfter.gateways.has(id)));
  // A touched CCN changes what the other CCNs of its CEN learn.
  const cenIds = new Set(scope.cenIds);
  for (const ccnId of scope.ccnIds) add(cenIds, topologyAfter.ccns.get(ccnId)?.cenId);
  const ccnIds = new Set(scope.ccnIds);
  for (const ccn of topologyAfter.ccns.values()) if (ccn.cenId && cenIds.has(ccn.cenId)) ccnIds.add(ccn.id);
  const selected = new Set<string>();
  for (const gateway of topologyAfter.gateways.values()) {
    const inCcn = gateway.ccnId !== null && ccnIds.has(gateway.ccnId);
    const usesAcl = gateway.aclId !== null && scope.aclIds.has(gateway.aclId);
    if (inCcn || usesAcl || scope.gatewayIds.has(gateway.id)) selected.add(gateway.id);
  }
  return selected;
}
