import { inEvaluationOrder } from '@opensag/proto';
import { areaOfRegion as catalogueAreaOfRegion } from '../domain/catalogue.js';
import type { Gateway, Topology } from '../domain/types.js';
import { SagError } from '../errors.js';
import { type Memberships, membershipsOf, routesLearnedByGateway, sortedByDestination } from './routes.js';
import type { AccessPoint, CompileSettings, GatewayConfig, RouteEntry, TunnelConfig } from './types.js';

/** A device keeps one active and at most one standby tunnel (SPEC §5 "Tunnel keepalive"). */
export const MAX_TUNNELS = 2;

function tunnelsFor(accessPoints: readonly AccessPoint[]): TunnelConfig[] {
  return accessPoints.slice(0, MAX_TUNNELS).map((point, index) => ({
    accessPoint: point.id,
    address: point.address,
    ...(point.publicKey === undefined ? {} : { publicKey: point.publicKey }),
    role: index === 0 ? 'active' : 'standby',
  }));
}

function routesFor(
  topology: Topology,
  gateway: Gateway,
  settings: CompileSettings,
  members: Memberships | undefined,
): RouteEntry[] {
  const areaOfRegion = settings.areaOfRegion ?? catalogueAreaOfRegion;
  const routes = routesLearnedByGateway(
    topology,
    gateway.id,
    areaOfRegion,
    members ?? membershipsOf(topology),
  )
    .filter((route) => route.state === 'active')
    .map(
      (route): RouteEntry => ({
        destination: route.destination,
        nextHop: 'tunnel',
        sourceResourceId: route.sourceResourceId,
        sourceKind: route.sourceKind,
      }),
    );
  return sortedByDestination(
    routes,
    (route) => route.destination,
    (a, b) =>
      a.sourceResourceId < b.sourceResourceId ? -1 : a.sourceResourceId > b.sourceResourceId ? 1 : 0,
  );
}

/**
 * The full desired config of one gateway, as a snapshot copied out of the topology: later changes
 * to the topology never reach into a config already compiled.
 */
export function compileGatewayConfig(
  topology: Topology,
  gatewayId: string,
  settings: CompileSettings,
  /** Shared by a batch of compilations (see membershipsOf); built for this one otherwise. */
  members?: Memberships,
): GatewayConfig {
  const gateway = topology.gateways.get(gatewayId);
  if (!gateway) {
    throw new SagError('NOT_FOUND', `gateway ${gatewayId} not found`, {
      resourceType: 'gateway',
      resourceId: gatewayId,
    });
  }
  const acl = gateway.aclId ? topology.acls.get(gateway.aclId) : undefined;
  return {
    gatewayId: gateway.id,
    serialNumber: gateway.serialNumber,
    ports: structuredClone(gateway.ports),
    privateCidrs: [...gateway.privateCidrs],
    tunnels: tunnelsFor(settings.accessPoints),
    keepalive: { ...settings.keepalive },
    routes: routesFor(topology, gateway, settings, members),
    aclRules: acl ? structuredClone(inEvaluationOrder(acl.rules)) : [],
    aclId: gateway.aclId,
  };
}
