import type { Change, Command } from './runner.js';

/**
 * Routes the data plane installs carry this protocol number in the main table; it lists, replaces
 * and deletes only those, so routes made by the system, DHCP clients or operators stay untouched.
 */
export const ROUTE_PROTOCOL = '222';

export interface DesiredRoute {
  /** Canonical CIDR; 0.0.0.0/0 for a default route. */
  destination: string;
  dev: string;
  via?: string;
  metric?: number;
  /** The gateway is reachable on `dev` even when no subnet there covers it (a /32 WAN address). */
  onlink?: boolean;
}

/** One route of `ip -json route show table main proto 222`. */
interface JsonRoute {
  dst?: string;
  dev?: string;
  gateway?: string;
  metric?: number;
  flags?: string[];
}

export function readRoutesCommand(): Command {
  return { cmd: 'ip', args: ['-json', 'route', 'show', 'table', 'main', 'proto', ROUTE_PROTOCOL] };
}

export function parseRoutes(json: string): DesiredRoute[] {
  const list = (json.trim() === '' ? [] : JSON.parse(json)) as JsonRoute[];
  return list.map((route) => {
    const dst = route.dst ?? 'default';
    const destination = dst === 'default' ? '0.0.0.0/0' : dst.includes('/') ? dst : `${dst}/32`;
    return {
      destination,
      dev: route.dev ?? '',
      ...(route.gateway ? { via: route.gateway } : {}),
      ...(route.metric ? { metric: route.metric } : {}),
      ...(route.flags?.includes('onlink') ? { onlink: true } : {}),
    };
  });
}

/** The kernel's identity of a route in one table: destination and metric. */
const routeKey = (route: DesiredRoute) => `${route.destination} metric ${route.metric ?? 0}`;

export function describeRoute(route: DesiredRoute): string {
  const metric = route.metric ? ` metric ${route.metric}` : '';
  return `route ${route.destination}${route.via ? ` via ${route.via}` : ''} dev ${route.dev}${metric}`;
}

function replaceCommand(route: DesiredRoute): Command {
  return {
    cmd: 'ip',
    args: [
      'route',
      'replace',
      route.destination,
      ...(route.via ? ['via', route.via] : []),
      'dev',
      route.dev,
      ...(route.onlink ? ['onlink'] : []),
      'proto',
      ROUTE_PROTOCOL,
      ...(route.metric ? ['metric', String(route.metric)] : []),
      'table',
      'main',
    ],
  };
}

function deleteCommand(route: DesiredRoute): Command {
  return {
    cmd: 'ip',
    args: [
      'route',
      'del',
      route.destination,
      'proto',
      ROUTE_PROTOCOL,
      'metric',
      String(route.metric ?? 0),
      'table',
      'main',
    ],
  };
}

function sameRoute(a: DesiredRoute, b: DesiredRoute): boolean {
  return a.dev === b.dev && (a.via ?? '') === (b.via ?? '') && Boolean(a.onlink) === Boolean(b.onlink);
}

/** Replaces what is missing or different, deletes owned routes no longer wanted; nothing else. */
export function planRoutes(desired: readonly DesiredRoute[], installed: readonly DesiredRoute[]): Change[] {
  const have = new Map(installed.map((route) => [routeKey(route), route]));
  const want = new Set(desired.map(routeKey));
  const changes: Change[] = [];
  for (const route of desired) {
    const current = have.get(routeKey(route));
    if (current && sameRoute(current, route)) continue;
    const reason = current
      ? `${describeRoute(route)} is installed as ${describeRoute(current)}`
      : `${describeRoute(route)} is missing`;
    changes.push({ reason, commands: [replaceCommand(route)] });
  }
  for (const route of installed) {
    if (want.has(routeKey(route))) continue;
    changes.push({
      reason: `${describeRoute(route)} is installed but not configured`,
      commands: [deleteCommand(route)],
    });
  }
  return changes;
}
