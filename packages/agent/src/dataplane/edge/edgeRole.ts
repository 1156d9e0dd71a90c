import type { DeviceConfig, EdgeSettings } from '../../config.js';
import { AgentError } from '../../errors.js';
import { type AgentLog, silentLog } from '../../session/log.js';
import type { DataPlane, DataPlaneState, PathProbeResult, RouteState } from '../dataplane.js';
import { compareRoutes } from '../desiredState.js';
import { type CommandRunner, hostRunner } from '../linux/runner.js';
import type { EdgeInstance, EdgePeer, EdgeVpc } from './edgeConfig.js';
import { EdgeDataPlane, type EdgeDataPlaneOptions } from './edgeDataPlane.js';
import { EDGE_INTERFACE } from './edgeWireguard.js';
import {
  describeUnreached,
  type ResolvedEdge,
  resolveEdgeOnMachine,
  type UnreachedVpc,
} from './vpcInterfaces.js';

export interface EdgeRoleDataPlaneOptions extends EdgeDataPlaneOptions {
  /** Where VPCs left out (no local link reaches them) are reported. */
  log?: AgentLog;
}

/** What an access point has applied, for `sag-agent status`. */
export interface EdgeState {
  listenPort: number;
  peers: EdgePeer[];
  /** The VPCs applied, each with the interface that reaches it. */
  vpcs: EdgeVpc[];
  /** VPCs of the config that no local interface reaches; left out with their instances. */
  unreachedVpcs: UnreachedVpc[];
  instances: EdgeInstance[];
  securityGroups: { id: string; rules: number }[];
}

export const NO_EDGE_PROBES = 'an access point runs no path probes';

function edgeOf(config: DeviceConfig): EdgeSettings {
  if (config.edge) return config.edge;
  throw new AgentError(
    'DATAPLANE_APPLY_FAILED',
    `revision ${config.revision} has no edge section; an access point applies only access point configs`,
  );
}

/**
 * The access point ("edge" role) behind the agent's DataPlane seam: a config's `edge` section
 * becomes an EdgeConfig, each VPC's interface being the local link that holds an address inside
 * the VPC's blocks, and is applied by EdgeDataPlane. A VPC no link reaches is left out with its
 * instances and logged, rather than failing the whole config.
 *
 * There are no ports, tunnels of its own to watch, nor path probes. `close()` leaves the kernel
 * state in place, so branch traffic keeps flowing while the agent restarts.
 */
export class EdgeRoleDataPlane implements DataPlane {
  readonly kind = 'linux' as const;
  private applied: { config: DeviceConfig; resolved: ResolvedEdge } | null = null;

  private constructor(
    private readonly edge: EdgeDataPlane,
    private readonly runner: CommandRunner,
    private readonly log: AgentLog,
  ) {}

  static async open(options: EdgeRoleDataPlaneOptions): Promise<EdgeRoleDataPlane> {
    const runner = options.runner ?? hostRunner;
    const edge = await EdgeDataPlane.open({ ...options, runner });
    return new EdgeRoleDataPlane(edge, runner, options.log ?? silentLog);
  }

  /** The access point's WireGuard public key: the key the gateways get for this access point. */
  get tunnelPublicKey(): string {
    return this.edge.tunnelPublicKey;
  }

  async apply(config: DeviceConfig): Promise<void> {
    const resolved = await resolveEdgeOnMachine(edgeOf(config), this.runner);
    for (const vpc of resolved.unreached)
      this.log.warn('VPC left out: no local interface has an address in its blocks', {
        revision: config.revision,
        vpc: describeUnreached(vpc),
      });
    await this.edge.apply(resolved.config);
    this.applied = { config: structuredClone(config), resolved };
  }

  async verify(config: DeviceConfig): Promise<string[]> {
    if (!config.edge) return [`edge: revision ${config.revision} has no edge section`];
    const resolved = await resolveEdgeOnMachine(config.edge, this.runner);
    const found = await this.edge.verify(resolved.config);
    if (this.applied?.config.revision !== config.revision)
      found.unshift(`revision: want ${config.revision}, have ${this.applied?.config.revision ?? null}`);
    return found;
  }

  async reset(): Promise<void> {
    await this.edge.reset();
    this.applied = null;
  }

  /** Peers appear as routes into the edge tunnel; VPC blocks as connected routes on their link. */
  snapshot(): DataPlaneState {
    if (!this.applied)
      return { revision: null, hash: null, ports: [], routes: [], aclRules: [], tunnels: [] };
    const { config, resolved } = this.applied;
    const routes: RouteState[] = [
      ...resolved.config.peers.flatMap((peer) =>
        peer.allowedIps.map(
          (destination): RouteState => ({
            destination,
            kind: 'tunnel',
            interface: EDGE_INTERFACE,
            sourceResourceId: peer.gatewayId,
          }),
        ),
      ),
      ...resolved.config.vpcs.flatMap((vpc) =>
        vpc.cidrBlocks.map(
          (destination): RouteState => ({
            destination,
            kind: 'connected',
            interface: vpc.interface,
            sourceResourceId: vpc.vpcId,
          }),
        ),
      ),
    ];
    return {
      revision: config.revision,
      hash: config.hash,
      ports: [],
      routes: routes.sort(compareRoutes),
      aclRules: [],
      tunnels: [],
    };
  }

  /** What is applied, or null before the first config. */
  edgeState(): EdgeState | null {
    if (!this.applied) return null;
    const { config, unreached } = structuredClone(this.applied.resolved);
    return {
      listenPort: config.listenPort,
      peers: config.peers,
      vpcs: config.vpcs,
      unreachedVpcs: unreached,
      instances: config.instances,
      securityGroups: config.securityGroups.map((group) => ({ id: group.id, rules: group.rules.length })),
    };
  }

  /** An access point monitors no tunnels of its own; the gateways probe it. */
  setTunnelStates(): void {}

  async probe(): Promise<PathProbeResult> {
    return { reachable: false, reason: NO_EDGE_PROBES };
  }

  close(): Promise<void> {
    return this.edge.close();
  }
}
