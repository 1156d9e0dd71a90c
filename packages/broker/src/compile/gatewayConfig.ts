import { inEvaluationOrder } from '@opensag/proto';
import { areaOfRegion as catalogueAreaOfRegion } from '../domain/catalogue.js';
import type { Topology } from '../domain/types.js';
import { SagError } from '../errors.js';
import { gatewayRoutes } from './gatewayRoutes.js';
import { type Memberships, membershipsOf } from './routes.js';
import type {
  AccessPoint,
  CompileSettings,
  GatewayConfig,
  KeepaliveSettings,
  TunnelConfig,
} from './types.js';

/** A device keeps one active and at most one standby tunnel (SPEC §5 "Tunnel keepalive"). */
export const MAX_TUNNELS = 2;

function tunnelsFor(accessPoints: readonly AccessPoint[]): TunnelConfig[] {
  return accessPoints.slice(0, MAX_TUNNELS).map((point, index) =>
    Object.freeze({
      accessPoint: point.id,
      address: point.address,
      ...(point.publicKey === undefined ? {} : { publicKey: point.publicKey }),
      role: index === 0 ? 'active' : 'standby',
    }),
  );
}

/** The parts every gateway of a batch shares, built once and frozen (see gatewayRoutes.ts). */
interface SharedParts {
  settings: CompileSettings;
  tunnels: readonly TunnelConfig[];
  keepalive: KeepaliveSettings;
}

const sharedPartsOf = new WeakMap<Memberships, SharedParts>();

function sharedParts(settings: CompileSettings, members: Memberships): SharedParts {
  let parts = sharedPartsOf.get(members);
  if (parts?.settings !== settings) {
    parts = {
      settings,
      tunnels: Object.freeze(tunnelsFor(settings.accessPoints)),
      keepalive: Object.freeze({ ...settings.keepalive }),
    };
    sharedPartsOf.set(members, parts);
  }
  return parts;
}

/**
 * The full desired config of one gateway, as a snapshot copied out of the topology: later changes
 * to the topology never reach into a config already compiled.
 */
export function compileGatewayConfig(
  topology: Topology,
  gatewayId: string,
  settings: CompileSettings,
  /**
   * Shared by a batch of compilations (see membershipsOf), and so are the route tables, tunnels
   * and keepalive built from it; built for this one otherwise.
   */
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
  const batch = members ?? membershipsOf(topology);
  const shared = sharedParts(settings, batch);
  return {
    gatewayId: gateway.id,
    serialNumber: gateway.serialNumber,
    ports: structuredClone(gateway.ports),
    privateCidrs: [...gateway.privateCidrs],
    // Copied arrays of shared, frozen entries: a config is still a snapshot of its own.
    tunnels: [...shared.tunnels],
    keepalive: shared.keepalive,
    routes: gatewayRoutes(topology, gateway, settings.areaOfRegion ?? catalogueAreaOfRegion, batch),
    aclRules: acl ? structuredClone(inEvaluationOrder(acl.rules)) : [],
    aclId: gateway.aclId,
  };
}
