import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentRole, AgentState, Dataplane } from '@opensag/proto';
import type { BootOutcome } from './apply/applier.js';
import type { AclRule } from './config.js';
import type { DataPlaneState, PortState, RouteState, TunnelState } from './dataplane/dataplane.js';
import type { EdgeState } from './dataplane/edge/edgeRole.js';
import type { TunnelStats } from './keepalive/tunnelMonitor.js';
import type { BrokerConnection } from './session/deviceSession.js';
import { writeFileAtomic } from './state/atomicFile.js';

export const STATUS_FILE = 'status.json';
const FORMAT = 1;

/** An access point's side of the status: its probe responder and what it has applied. */
export interface EdgeStatus {
  /** Where the probe responder listens (WireGuard on port + 1). */
  listen: string;
  probesAnswered: number;
  /** Peers, VPCs (with their links) and instances applied; null before the first config. */
  applied: EdgeState | null;
}

export interface StatusTunnel extends TunnelState {
  lossPercent: number | null;
  jitterMs: number | null;
  probesSent: number;
}

/**
 * What the device has applied and how its links are, as `sag-agent status` shows it. Written by
 * the running agent after every apply and report, so it can be read while the agent runs.
 */
export interface AgentStatus {
  format: typeof FORMAT;
  serialNumber: string;
  updatedAt: string;
  agentState: AgentState;
  dataplane: Dataplane;
  role: AgentRole;
  /** Null before the first config. */
  revision: number | null;
  hash: string | null;
  ports: PortState[];
  routes: RouteState[];
  aclRules: AclRule[];
  tunnels: StatusTunnel[];
  broker: Omit<BrokerConnection, 'since'> & { since: string };
  boot: BootOutcome;
  /** Only for an access point (edge role). */
  edge?: EdgeStatus;
}

export interface StatusFacts {
  serialNumber: string;
  agentState: AgentState;
  dataplane: Dataplane;
  role: AgentRole;
  snapshot: DataPlaneState;
  tunnelStats: readonly TunnelStats[];
  broker: BrokerConnection;
  boot: BootOutcome;
  now: number;
  edge?: EdgeStatus;
}

export function buildStatus(facts: StatusFacts): AgentStatus {
  const stats = new Map(facts.tunnelStats.map((s) => [s.accessPoint, s]));
  const { snapshot } = facts;
  return {
    format: FORMAT,
    serialNumber: facts.serialNumber,
    updatedAt: new Date(facts.now).toISOString(),
    agentState: facts.agentState,
    dataplane: facts.dataplane,
    role: facts.role,
    revision: snapshot.revision,
    hash: snapshot.hash,
    ports: snapshot.ports,
    routes: snapshot.routes,
    aclRules: snapshot.aclRules,
    tunnels: snapshot.tunnels.map((tunnel) => {
      const s = stats.get(tunnel.accessPoint);
      return {
        ...tunnel,
        lossPercent: s ? s.lossPercent : null,
        jitterMs: s ? s.jitterMs : null,
        probesSent: s?.probesSent ?? 0,
      };
    }),
    broker: { ...facts.broker, since: new Date(facts.broker.since).toISOString() },
    boot: facts.boot,
    ...(facts.edge ? { edge: facts.edge } : {}),
  };
}

export async function writeStatus(stateDir: string, status: AgentStatus): Promise<void> {
  await writeFileAtomic(join(stateDir, STATUS_FILE), `${JSON.stringify(status, null, 2)}\n`, 0o644);
}

/** The status the agent last wrote, or why there is none. Never throws. */
export async function readStatus(stateDir: string): Promise<{ status: AgentStatus } | { error: string }> {
  const path = join(stateDir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? { error: `no ${STATUS_FILE} in ${stateDir}: the agent has not run with this state directory yet` }
      : { error: `cannot read ${path}: ${String(err)}` };
  }
  try {
    const status = JSON.parse(text) as AgentStatus;
    if (status?.format !== FORMAT) return { error: `${path} has unknown format ${String(status?.format)}` };
    return { status };
  } catch {
    return { error: `${path} is not valid JSON` };
  }
}
