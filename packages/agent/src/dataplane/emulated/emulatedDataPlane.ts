import { parsePortRange } from '@opensag/proto';
import type { DeviceConfig } from '../../config.js';
import { AgentError } from '../../errors.js';
import type {
  DataPlane,
  DataPlaneState,
  PathProbe,
  PathProbeResult,
  PortState,
  RouteState,
  TunnelLinkState,
  TunnelState,
} from '../dataplane.js';
import { compareRoutes, desiredPorts, desiredRoutes } from '../desiredState.js';
import { diffState } from '../verify.js';
import { answerProbe } from './pathProbe.js';
import { RoutingTable } from './routingTable.js';

interface Installed {
  revision: number | null;
  hash: string | null;
  ports: PortState[];
  table: RoutingTable;
  aclRules: DeviceConfig['aclRules'];
  tunnels: TunnelState[];
}

function emptyInstalled(): Installed {
  return { revision: null, hash: null, ports: [], table: new RoutingTable(), aclRules: [], tunnels: [] };
}

/**
 * The default data plane: an in-memory model of ports, routing table, ACL and tunnels. Apply builds
 * a complete new model and swaps it in only when every part was built, so it is all or nothing.
 */
/** The physical ports of the emulated box (a sag-100wm: two WAN, four LAN). */
export const EMULATED_HARDWARE_PORTS: readonly string[] = ['wan0', 'wan1', 'lan0', 'lan1', 'lan2', 'lan3'];

export class EmulatedDataPlane implements DataPlane {
  readonly kind = 'emulated' as const;
  readonly hardwarePorts: readonly string[];
  private installed: Installed = emptyInstalled();
  private closed = false;
  private pendingFailure: string | null = null;
  private pendingRouteLoss: string | null = null;

  constructor(options: { hardwarePorts?: readonly string[] } = {}) {
    this.hardwarePorts = options.hardwarePorts ?? EMULATED_HARDWARE_PORTS;
  }

  /** Makes the next apply fail with `reason` before anything is swapped in. */
  failNextApply(reason: string): void {
    this.pendingFailure = reason;
  }

  /** Makes the next apply succeed but lose the route to `destination`, as if something removed it. */
  loseRouteOnNextApply(destination: string): void {
    this.pendingRouteLoss = destination;
  }

  async apply(config: DeviceConfig): Promise<void> {
    this.assertOpen();
    const next = this.build(config);
    if (this.pendingFailure !== null) {
      const reason = this.pendingFailure;
      this.pendingFailure = null;
      throw new AgentError('DATAPLANE_APPLY_FAILED', `emulated data plane: ${reason}`, {
        revision: config.revision,
      });
    }
    if (this.pendingRouteLoss !== null) {
      next.table.remove(this.pendingRouteLoss);
      this.pendingRouteLoss = null;
    }
    this.installed = next;
  }

  private build(config: DeviceConfig): Installed {
    // The cloud cannot know which ports this box has; a config naming a missing one fails here
    // like it would on real hardware, and the applier rolls back.
    for (const port of [...config.ports.wan, ...config.ports.lan]) {
      if (!this.hardwarePorts.includes(port.name)) {
        throw new AgentError(
          'DATAPLANE_APPLY_FAILED',
          `port ${port.name} does not exist on this device (it has ${this.hardwarePorts.join(', ')})`,
          { port: port.name },
        );
      }
    }
    const table = new RoutingTable();
    try {
      for (const route of desiredRoutes(config)) table.add(route);
    } catch (err) {
      throw new AgentError(
        'DATAPLANE_APPLY_FAILED',
        `revision ${config.revision}: ${String((err as Error).message)}`,
      );
    }
    for (const rule of config.aclRules) {
      if (!parsePortRange(rule.sourcePortRange) || !parsePortRange(rule.destPortRange)) {
        throw new AgentError('DATAPLANE_APPLY_FAILED', `ACL rule ${rule.id} has a malformed port range`, {
          rule: rule.id,
        });
      }
    }
    const previous = new Map(this.installed.tunnels.map((t) => [t.accessPoint, t]));
    const tunnels = config.tunnels.map((tunnel): TunnelState => {
      const kept = previous.get(tunnel.accessPoint);
      const link = kept && kept.address === tunnel.address ? kept : undefined;
      return {
        ...tunnel,
        status: link?.status ?? 'unknown',
        carrying: link?.carrying ?? false,
        rttMs: link?.rttMs,
      };
    });
    // Until the keepalive monitor says otherwise, traffic goes to the active tunnel.
    if (!tunnels.some((t) => t.carrying)) for (const t of tunnels) t.carrying = t.role === 'active';
    const status = new Map(this.installed.ports.map((p) => [p.name, p.status]));
    const ports = desiredPorts(config).map((port) => ({
      ...port,
      status: status.get(port.name) ?? port.status,
    }));
    return {
      revision: config.revision,
      hash: config.hash,
      ports,
      table,
      aclRules: config.aclRules.map((rule) => ({ ...rule })),
      tunnels,
    };
  }

  async verify(config: DeviceConfig): Promise<string[]> {
    this.assertOpen();
    return diffState(config, this.state());
  }

  async reset(): Promise<void> {
    this.assertOpen();
    this.installed = emptyInstalled();
  }

  /**
   * A copy of the model. Every part of it is a list of flat records (strings, numbers, booleans),
   * so copying each record is a deep copy, and far cheaper than `structuredClone`: a report reads
   * the ports of 10,000 simulated gateways every few seconds.
   */
  snapshot(): DataPlaneState {
    const { revision, hash, ports, routes, aclRules, tunnels } = this.state();
    return {
      revision,
      hash,
      ports: ports.map((port) => ({ ...port })),
      routes,
      aclRules: aclRules.map((rule) => ({ ...rule })),
      tunnels,
    };
  }

  /** The model as it stands, for reading only: routes and tunnels are fresh, the rest shared. */
  private state(): DataPlaneState {
    const { revision, hash, ports, table, aclRules, tunnels } = this.installed;
    const routes: RouteState[] = table.routes().map(({ prefix: _prefix, ...route }) => route);
    return {
      revision,
      hash,
      ports,
      routes: routes.sort(compareRoutes),
      aclRules,
      tunnels: tunnels.map(withoutUndefined),
    };
  }

  setTunnelStates(states: readonly TunnelLinkState[]): void {
    for (const state of states) {
      const tunnel = this.installed.tunnels.find((t) => t.accessPoint === state.accessPoint);
      if (!tunnel) continue;
      tunnel.status = state.status;
      tunnel.carrying = state.carrying;
      tunnel.rttMs = state.rttMs;
    }
  }

  /** Emulates a cable pulled or plugged on a port. */
  setPortStatus(name: string, status: 'up' | 'down'): void {
    const port = this.installed.ports.find((p) => p.name === name);
    if (!port) throw new RangeError(`no port named ${name}`);
    port.status = status;
  }

  /** The route the model would use for `ip`, or null. */
  lookup(ip: string) {
    return this.installed.table.lookup(ip);
  }

  async probe(request: PathProbe): Promise<PathProbeResult> {
    this.assertOpen();
    return answerProbe(this.installed, request);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentError('DATAPLANE_CLOSED', 'the emulated data plane is closed');
  }
}

/** A copy of the tunnel without its unset optional fields (a snapshot compares equal to JSON). */
function withoutUndefined(tunnel: TunnelState): TunnelState {
  const copy: Record<string, unknown> = {};
  for (const key in tunnel) {
    const value = tunnel[key as keyof TunnelState];
    if (value !== undefined) copy[key] = value;
  }
  return copy as unknown as TunnelState;
}
