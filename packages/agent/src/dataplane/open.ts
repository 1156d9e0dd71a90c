import type { AgentRole, Dataplane } from '@opensag/proto';
import type { AgentLog } from '../session/log.js';
import type { DataPlane } from './dataplane.js';
import { EdgeRoleDataPlane } from './edge/edgeRole.js';
import { EmulatedDataPlane } from './emulated/emulatedDataPlane.js';
import { LinuxDataPlane } from './linux/linuxDataPlane.js';

/** Where an access point answers keepalive probes unless told otherwise; WireGuard is on port + 1. */
export const DEFAULT_EDGE_LISTEN = '0.0.0.0:51820';

/**
 * The probe responder's address, `HOST:PORT`: an IPv4 address or a name, and a port below 65535
 * since WireGuard takes port + 1 (0 picks a free port, for tests).
 */
export function parseListen(text: string): { host: string; port: number } | null {
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const port = Number(match[2]);
  return port < 65535 ? { host: match[1], port } : null;
}

/**
 * The one line that says why a data plane / role / listen combination cannot run, or null when
 * it can: an access point programs the kernel, and only an access point listens.
 */
export function dataPlaneChoiceProblem(
  dataplane: Dataplane,
  role: AgentRole,
  listen: string | undefined,
): string | null {
  if (role === 'edge' && dataplane !== 'linux')
    return `role edge (an access point) needs dataplane linux: it programs WireGuard, routes and nftables (dataplane is ${dataplane})`;
  if (role === 'branch' && listen !== undefined)
    return `listen ${listen} is for role edge (the access point's probe responder); a branch gateway listens on nothing`;
  if (listen !== undefined && !parseListen(listen))
    return `listen ${JSON.stringify(listen)} is not HOST:PORT with a port below 65535 (WireGuard takes port + 1)`;
  return null;
}

export interface OpenDataPlaneOptions {
  dataplane: Dataplane;
  role: AgentRole;
  stateDir: string;
  log: AgentLog;
}

/** The data plane for this device: emulated, linux (a branch gateway), or linux as an access point. */
export async function openDataPlane(options: OpenDataPlaneOptions): Promise<DataPlane> {
  const { stateDir, log } = options;
  if (options.dataplane === 'emulated') return new EmulatedDataPlane();
  if (options.role === 'edge') return EdgeRoleDataPlane.open({ stateDir, log });
  return LinuxDataPlane.open({
    stateDir,
    onError: (err) =>
      log.error('moving routes to the carrying tunnel failed', {
        error: err instanceof Error ? err.message : String(err),
      }),
  });
}
