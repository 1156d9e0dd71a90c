import { readFileSync } from 'node:fs';
import type { AgentRole, AgentState, Dataplane, HelloInput, Input, PortStatus } from '@opensag/proto';
import type { PortState } from '../dataplane/dataplane.js';

/** What the birth message says about the device, gathered by the session at each connect. */
export interface HelloFacts {
  /** The applied config, or null before the first one. */
  applied: { revision: number; hash: string } | null;
  ports: readonly PortState[];
  state: AgentState;
  dataplane: Dataplane;
  role: AgentRole;
  model: string;
  agentVersion: string;
  /** The data plane's WireGuard public key; absent (sent as '') when it builds no tunnels. */
  tunnelPublicKey?: string;
}

/**
 * The Hello published at every (re)connect: the broker compares `appliedRevision` with the
 * revision it wants and re-sends the config only if they differ.
 */
export function buildHello(facts: HelloFacts): HelloInput {
  return {
    agentVersion: facts.agentVersion,
    model: facts.model,
    appliedRevision: facts.applied?.revision ?? 0,
    appliedHash: facts.applied?.hash ?? '',
    ports: portStatuses(facts.ports),
    state: facts.state,
    dataplane: facts.dataplane,
    role: facts.role,
    tunnelPublicKey: facts.tunnelPublicKey ?? '',
  };
}

/** Ports in the wire form shared by Hello and Report. */
export function portStatuses(ports: readonly PortState[]): Input<PortStatus>[] {
  return ports.map((port) => ({
    name: port.name,
    kind: port.kind,
    state: port.status,
    address: port.address ?? '',
    mode: port.kind === 'wan' ? (port.mode ?? '') : '',
    error: '',
  }));
}

/** The version in this package's package.json (one level above both src/ and dist/). */
export function readAgentVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
