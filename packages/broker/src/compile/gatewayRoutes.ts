import type { Ccn, Gateway, Topology, Vpc } from '../domain/types.js';
import {
  ccnEndpoint,
  crossAreaReason,
  type Memberships,
  sortedByDestination,
  vpcEndpoint,
} from './routes.js';
import type { AreaOfRegion, RouteEntry } from './types.js';

/**
 * The active routes of a gateway's config, read off tables shared by a compile batch. Whether a
 * route is active depends only on the areas of its two ends, so every gateway of one area in one
 * CEN learns the same list, less its own blocks: the list is built and sorted once per CEN and
 * area (per CCN outside any CEN) instead of once per gateway, which made a fleet-wide change
 * quadratic in the size of a CEN. Gives what routesLearnedByGateway gives, active routes only.
 */

/** Tables keyed by CEN and learner area (or by CCN); one set per Memberships, i.e. per batch. */
const tablesOf = new WeakMap<Memberships, Map<string, readonly RouteEntry[]>>();

function byRoute(a: RouteEntry, b: RouteEntry): number {
  return a.sourceResourceId < b.sourceResourceId ? -1 : a.sourceResourceId > b.sourceResourceId ? 1 : 0;
}

/** Shared by many configs, so frozen: no config can change another's routes. */
function entriesOf(source: Gateway | Vpc, sourceKind: 'gateway' | 'vpc'): RouteEntry[] {
  const blocks = sourceKind === 'gateway' ? (source as Gateway).privateCidrs : (source as Vpc).cidrBlocks;
  return blocks.map((destination) =>
    Object.freeze({ destination, nextHop: 'tunnel', sourceResourceId: source.id, sourceKind }),
  );
}

/**
 * Everything a gateway of `ccn` can learn, its own blocks included: its CCN's blocks, and when the
 * CCN is attached to a CEN, the blocks of every VPC and CCN there whose area pairs with its own.
 * A CCN's own members always count, as they share its area.
 */
function learnable(topology: Topology, ccn: Ccn, areaOfRegion: AreaOfRegion, members: Memberships) {
  const cen = ccn.cenId ? topology.cens.get(ccn.cenId) : undefined;
  const routes: RouteEntry[] = [];
  if (!cen) {
    for (const gateway of members.gatewaysByCcn.get(ccn.id) ?? [])
      routes.push(...entriesOf(gateway, 'gateway'));
    return routes;
  }
  const here = ccnEndpoint(ccn);
  for (const vpc of members.vpcsByCen.get(cen.id) ?? []) {
    if (crossAreaReason(cen, vpcEndpoint(vpc, areaOfRegion), here) === undefined)
      routes.push(...entriesOf(vpc, 'vpc'));
  }
  for (const other of members.ccnsByCen.get(cen.id) ?? []) {
    if (other.id !== ccn.id && crossAreaReason(cen, ccnEndpoint(other), here) !== undefined) continue;
    for (const gateway of members.gatewaysByCcn.get(other.id) ?? [])
      routes.push(...entriesOf(gateway, 'gateway'));
  }
  return routes;
}

export function gatewayRoutes(
  topology: Topology,
  gateway: Gateway,
  areaOfRegion: AreaOfRegion,
  members: Memberships,
): RouteEntry[] {
  const ccn = gateway.ccnId ? topology.ccns.get(gateway.ccnId) : undefined;
  if (!ccn) return [];
  let tables = tablesOf.get(members);
  if (!tables) {
    tables = new Map();
    tablesOf.set(members, tables);
  }
  // CCNs of one area in one CEN learn alike; a CCN outside a CEN learns only its own members.
  const key = ccn.cenId && topology.cens.has(ccn.cenId) ? `cen ${ccn.cenId} ${ccn.area}` : `ccn ${ccn.id}`;
  let table = tables.get(key);
  if (!table) {
    table = sortedByDestination(
      learnable(topology, ccn, areaOfRegion, members),
      (route) => route.destination,
      byRoute,
    );
    tables.set(key, table);
  }
  // Filtering keeps the order, and leaves out only what leads back to the gateway itself.
  return table.filter((route) => route.sourceResourceId !== gateway.id);
}
