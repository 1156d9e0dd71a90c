import type { Ccn, Cen, Gateway, Topology, Vpc } from '../domain/types.js';
import { SagError } from '../errors.js';
import type { AreaOfRegion, CenRoute } from './types.js';

export type { CenRoute } from './types.js';

/**
 * Who learns which blocks (SPEC §3 "Routes") and whether each route is active under the cross-area
 * rule. Gateway configs and the CEN route table are both read off the same functions, so what the
 * API shows is what the devices get.
 */

/** One side of a route, as the cross-area rule sees it. */
export interface AreaEndpoint {
  /** How the reason names this side: a CCN id, or a VPC's region and id. */
  label: string;
  area: string | undefined;
}

export function vpcEndpoint(vpc: Vpc, areaOfRegion: AreaOfRegion): AreaEndpoint {
  return { label: `${vpc.region} (${vpc.id})`, area: areaOfRegion(vpc.region) };
}

export function ccnEndpoint(ccn: Ccn): AreaEndpoint {
  return { label: ccn.id, area: ccn.area };
}

/**
 * Why a route between two ends of `cen` is inactive, or undefined when it is active: ends in
 * different areas need a bandwidth package for that pair of areas.
 */
export function crossAreaReason(cen: Cen, a: AreaEndpoint, b: AreaEndpoint): string | undefined {
  for (const end of [a, b]) {
    if (end.area === undefined)
      return `${end.label} is in no known area, so routes to and from it stay inactive`;
  }
  if (a.area === b.area) return undefined;
  const pair = [a.area!, b.area!].sort();
  const covered = cen.bandwidthPackages.some(
    (pkg) => pkg.areas.includes(pair[0]) && pkg.areas.includes(pair[1]),
  );
  if (covered) return undefined;
  return (
    `${a.label} is in area ${a.area} and ${b.label} is in area ${b.area}; ` +
    `add a bandwidth package for ${pair[0]} ↔ ${pair[1]} to ${cen.id}`
  );
}

/**
 * Who belongs to which CCN and CEN, each list in the topology's order. Built in one pass, so a
 * batch of compilations shares it instead of scanning every gateway once per gateway.
 */
export interface Memberships {
  gatewaysByCcn: Map<string, Gateway[]>;
  ccnsByCen: Map<string, Ccn[]>;
  vpcsByCen: Map<string, Vpc[]>;
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string | null): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const id = key(item);
    if (id === null) continue;
    const group = groups.get(id);
    if (group) group.push(item);
    else groups.set(id, [item]);
  }
  return groups;
}

export function membershipsOf(topology: Topology): Memberships {
  return {
    gatewaysByCcn: groupBy(topology.gateways.values(), (gateway) => gateway.ccnId),
    ccnsByCen: groupBy(topology.ccns.values(), (ccn) => ccn.cenId),
    vpcsByCen: groupBy(topology.vpcs.values(), (vpc) => vpc.cenId),
  };
}

interface Learner {
  kind: 'gateway' | 'vpc';
  id: string;
}

function routesFrom(
  learner: Learner,
  source: Gateway | Vpc,
  sourceKind: 'gateway' | 'vpc',
  inactiveReason: string | undefined,
): CenRoute[] {
  const blocks = sourceKind === 'gateway' ? (source as Gateway).privateCidrs : (source as Vpc).cidrBlocks;
  return blocks.map((destination) => ({
    destination,
    sourceResourceId: source.id,
    sourceKind,
    learnerResourceId: learner.id,
    learnerKind: learner.kind,
    state: inactiveReason === undefined ? 'active' : 'inactive',
    ...(inactiveReason === undefined ? {} : { reason: inactiveReason }),
  }));
}

/**
 * Every route gateway `gatewayId` learns, active or not: its CCN peers' blocks, and when the CCN is
 * attached to a CEN, the blocks of that CEN's VPCs and of the gateways of its other CCNs.
 */
export function routesLearnedByGateway(
  topology: Topology,
  gatewayId: string,
  areaOfRegion: AreaOfRegion,
  members: Memberships = membershipsOf(topology),
): CenRoute[] {
  const gateway = topology.gateways.get(gatewayId);
  const ccn = gateway?.ccnId ? topology.ccns.get(gateway.ccnId) : undefined;
  if (!gateway || !ccn) return [];
  const learner: Learner = { kind: 'gateway', id: gateway.id };
  const routes = (members.gatewaysByCcn.get(ccn.id) ?? [])
    .filter((peer) => peer.id !== gateway.id)
    .flatMap((peer) => routesFrom(learner, peer, 'gateway', undefined));
  const cen = ccn.cenId ? topology.cens.get(ccn.cenId) : undefined;
  if (!cen) return routes;
  for (const vpc of members.vpcsByCen.get(cen.id) ?? []) {
    const reason = crossAreaReason(cen, vpcEndpoint(vpc, areaOfRegion), ccnEndpoint(ccn));
    routes.push(...routesFrom(learner, vpc, 'vpc', reason));
  }
  for (const other of members.ccnsByCen.get(cen.id) ?? []) {
    if (other.id === ccn.id) continue;
    const reason = crossAreaReason(cen, ccnEndpoint(other), ccnEndpoint(ccn));
    for (const peer of members.gatewaysByCcn.get(other.id) ?? []) {
      routes.push(...routesFrom(learner, peer, 'gateway', reason));
    }
  }
  return routes;
}

/**
 * Everything a VPC learns through its CEN, active or not: every branch block, and the blocks of
 * the CEN's other VPCs (everything attached to one CEN reaches everything else).
 */
export function routesLearnedByVpc(
  topology: Topology,
  vpcId: string,
  areaOfRegion: AreaOfRegion,
  members: Memberships = membershipsOf(topology),
): CenRoute[] {
  const vpc = topology.vpcs.get(vpcId);
  const cen = vpc?.cenId ? topology.cens.get(vpc.cenId) : undefined;
  if (!vpc || !cen) return [];
  const learner: Learner = { kind: 'vpc', id: vpc.id };
  const here = vpcEndpoint(vpc, areaOfRegion);
  const routes = (members.ccnsByCen.get(cen.id) ?? []).flatMap((ccn) => {
    const reason = crossAreaReason(cen, here, ccnEndpoint(ccn));
    return (members.gatewaysByCcn.get(ccn.id) ?? []).flatMap((gateway) =>
      routesFrom(learner, gateway, 'gateway', reason),
    );
  });
  for (const other of members.vpcsByCen.get(cen.id) ?? []) {
    if (other.id === vpc.id) continue;
    const reason = crossAreaReason(cen, vpcEndpoint(other, areaOfRegion), here);
    routes.push(...routesFrom(learner, other, 'vpc', reason));
  }
  return routes;
}

/** The effective route table of a CEN: what every VPC and every gateway attached to it learns. */
export function cenRouteTable(topology: Topology, cenId: string, areaOfRegion: AreaOfRegion): CenRoute[] {
  if (!topology.cens.has(cenId)) {
    throw new SagError('NOT_FOUND', `CEN ${cenId} not found`, { resourceType: 'cen', resourceId: cenId });
  }
  const members = membershipsOf(topology);
  const routes = (members.vpcsByCen.get(cenId) ?? []).flatMap((vpc) =>
    routesLearnedByVpc(topology, vpc.id, areaOfRegion, members),
  );
  for (const ccn of members.ccnsByCen.get(cenId) ?? []) {
    for (const gateway of members.gatewaysByCcn.get(ccn.id) ?? []) {
      routes.push(...routesLearnedByGateway(topology, gateway.id, areaOfRegion, members));
    }
  }
  return sortedByDestination(
    routes,
    (route) => route.destination,
    (a, b) =>
      compareText(a.learnerResourceId, b.learnerResourceId) ||
      compareText(a.sourceResourceId, b.sourceResourceId),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A destination with its parsed address and prefix (undefined when it is no IPv4 CIDR). */
interface KeyedDestination {
  text: string;
  key: [number, number] | undefined;
}

function keyed(text: string): KeyedDestination {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (!match) return { text, key: undefined };
  const [a, b, c, d, prefix] = match.slice(1).map(Number);
  return { text, key: [((a << 24) >>> 0) + (b << 16) + (c << 8) + d, prefix] };
}

/** By address, then prefix length, so 9.0.0.0/8 sorts before 10.0.0.0/8; text when unparsable. */
function compareKeyed(a: KeyedDestination, b: KeyedDestination): number {
  if (!a.key || !b.key) return compareText(a.text, b.text);
  return a.key[0] - b.key[0] || a.key[1] - b.key[1] || compareText(a.text, b.text);
}

/**
 * `items` ordered by destination as compareDestinations orders them, then by `tie`; each
 * destination is parsed once rather than at every comparison (route lists run to thousands).
 */
export function sortedByDestination<T>(
  items: readonly T[],
  destinationOf: (item: T) => string,
  tie: (a: T, b: T) => number = () => 0,
): T[] {
  return items
    .map((item) => ({ item, destination: keyed(destinationOf(item)) }))
    .sort((a, b) => compareKeyed(a.destination, b.destination) || tie(a.item, b.item))
    .map(({ item }) => item);
}

/** Orders CIDR blocks by address, then prefix length, so 9.0.0.0/8 sorts before 10.0.0.0/8. */
export function compareDestinations(a: string, b: string): number {
  return compareKeyed(keyed(a), keyed(b));
}
