import { type DesiredRoute, parseRoutes, planRoutes } from '../linux/routes.js';
import type { Change, Command } from '../linux/runner.js';
import type { EdgeConfig } from './edgeConfig.js';
import { EDGE_INTERFACE } from './edgeWireguard.js';

/**
 * Edge routes carry their own protocol number, so an edge and a gateway data plane in one network
 * namespace never delete each other's routes (the gateway owns 222).
 */
export const EDGE_ROUTE_PROTOCOL = '223';

/** Every branch block goes into sag-edge0; WireGuard picks the gateway by its allowed-ips. */
export function desiredEdgeRoutes(config: EdgeConfig | null): DesiredRoute[] {
  return (config?.peers ?? [])
    .flatMap((peer) => peer.allowedIps)
    .sort()
    .map((destination) => ({ destination, dev: EDGE_INTERFACE }));
}

export function readEdgeRoutesCommand(): Command {
  return { cmd: 'ip', args: ['-json', 'route', 'show', 'table', 'main', 'proto', EDGE_ROUTE_PROTOCOL] };
}

export function parseEdgeRoutes(json: string): DesiredRoute[] {
  return parseRoutes(json);
}

/** The linux planner's commands, with the edge's protocol number in place of the gateway's. */
function ownedByEdge(command: Command): Command {
  const args = [...command.args];
  const at = args.indexOf('proto');
  if (at >= 0) args[at + 1] = EDGE_ROUTE_PROTOCOL;
  return { ...command, args };
}

export function planEdgeRoutes(
  desired: readonly DesiredRoute[],
  installed: readonly DesiredRoute[],
): Change[] {
  return planRoutes(desired, installed).map((change) => ({
    ...change,
    commands: change.commands.map(ownedByEdge),
  }));
}
