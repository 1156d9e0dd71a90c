import { canonicalJson } from '../apply/canonicalJson.js';
import type { DeviceConfig } from '../config.js';
import type { DataPlaneState, RouteState } from './dataplane.js';
import { compareRoutes, desiredState } from './desiredState.js';

const routeKey = (route: RouteState) =>
  `${route.destination} (${route.kind}${route.interface ? ` on ${route.interface}` : ''})`;

function diffKeyed<T>(
  what: string,
  desired: T[],
  actual: T[],
  key: (item: T) => string,
  out: string[],
): void {
  const want = new Map(desired.map((item) => [key(item), canonicalJson(item)]));
  const have = new Map(actual.map((item) => [key(item), canonicalJson(item)]));
  for (const [k, text] of want) {
    if (!have.has(k)) out.push(`${what} ${k} is missing`);
    else if (have.get(k) !== text) out.push(`${what} ${k} differs: want ${text}, have ${have.get(k)}`);
  }
  for (const k of have.keys()) if (!want.has(k)) out.push(`${what} ${k} is installed but not configured`);
}

/**
 * One route per destination: of a LAN subnet, a private block and a cloud route to the very same
 * block only the first (in that order) carries traffic, so a data plane may hold just that one.
 */
function routesInForce(routes: RouteState[]): RouteState[] {
  const sorted = [...routes].sort(compareRoutes);
  return sorted.filter((route, i) => i === 0 || sorted[i - 1].destination !== route.destination);
}

/**
 * Differences between what `config` asks for and a data plane's snapshot, one line each, naming
 * the port, route, ACL rule or tunnel. Run-time fields (port and link status) are not compared.
 */
export function diffState(config: DeviceConfig, actual: DataPlaneState): string[] {
  const desired = desiredState(config);
  const out: string[] = [];
  if (actual.revision !== desired.revision)
    out.push(`revision: want ${desired.revision}, have ${actual.revision}`);
  const portShape = ({ status: _status, ...rest }: DataPlaneState['ports'][number]) => rest;
  diffKeyed('port', desired.ports.map(portShape), actual.ports.map(portShape), (p) => p.name, out);
  diffKeyed('route', routesInForce(desired.routes), routesInForce(actual.routes), routeKey, out);
  const desiredAcl = desired.aclRules.map((rule) => canonicalJson(rule));
  const actualAcl = actual.aclRules.map((rule) => canonicalJson(rule));
  if (desiredAcl.join('\n') !== actualAcl.join('\n')) {
    const want = desired.aclRules.map((r) => r.id).join(', ');
    const have = actual.aclRules.map((r) => r.id).join(', ');
    out.push(`ACL rules differ: want [${want}], have [${have}]${want === have ? ' (rule content)' : ''}`);
  }
  const tunnelShape = (t: DeviceConfig['tunnels'][number]) => ({
    accessPoint: t.accessPoint,
    address: t.address,
    role: t.role,
    ...(t.publicKey ? { publicKey: t.publicKey } : {}),
  });
  diffKeyed(
    'tunnel',
    desired.tunnels.map(tunnelShape),
    actual.tunnels.map(tunnelShape),
    (t) => t.accessPoint,
    out,
  );
  return out;
}
