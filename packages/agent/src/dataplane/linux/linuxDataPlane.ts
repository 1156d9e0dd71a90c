import type { DeviceConfig } from '../../config.js';
import { AgentError, errorMessage } from '../../errors.js';
import type {
  DataPlane,
  DataPlaneState,
  PathProbe,
  PathProbeResult,
  TunnelLinkState,
  TunnelState,
} from '../dataplane.js';
import { compareRoutes, desiredPorts, desiredRoutes } from '../desiredState.js';
import { desiredLinux, type LinuxDesired } from './desired.js';
import { readDhcpServers } from './dnsmasq.js';
import { probePath } from './probe.js';
import {
  converge,
  differences,
  forgetMachineRead,
  loadOwnedAddresses,
  type ReconcileContext,
  routesStep,
} from './reconcile.js';
import { type CommandRunner, executeChanges, hostRunner } from './runner.js';
import { type ShellRunner, shellRunner } from './shellRunner.js';
import { connectInProcess, type TcpConnect } from './tcpConnect.js';
import { loadOrCreateTunnelKey } from './tunnelKey.js';
import { readWanLease } from './wanDhcp.js';
import { DEFAULT_WIREGUARD_OPTIONS, type SkippedTunnel, type WireguardOptions } from './wireguard.js';

export interface LinuxDataPlaneOptions {
  /** Holds the tunnel key, dnsmasq and udhcpc files (pids, leases, scripts) and the addresses ledger. */
  stateDir: string;
  /** Runs the programs; by default one long-lived shell (`shellRunner`), probes directly. */
  runner?: CommandRunner;
  /** How TCP probes connect; in-process by default (the agent's own namespace). */
  tcpConnect?: TcpConnect;
  wireguard?: Partial<WireguardOptions>;
  /** Told about failures of work done in the background (route moves after a failover). */
  onError?: (err: unknown) => void;
}

/** What `inspect` finds: differences (as `verify` returns them) and tunnels deliberately not built. */
export interface LinuxInspection {
  differences: string[];
  skipped: SkippedTunnel[];
}

/**
 * The data plane on a real Linux network stack (the agent's network namespace): the ACL as the
 * nftables table `inet opensag`, routes with protocol 222, WireGuard tunnels sag-wg0/sag-wg1, port
 * addresses, a udhcpc per DHCP WAN port and a dnsmasq per LAN DHCP pool. Every apply reads the
 * machine, changes only what differs, and on failure converges back to the previous config.
 * Before the first config nothing is touched: the box's own system brings it online.
 *
 * `close()` stops the dnsmasq servers but leaves tunnels, routes, addresses, the ACL and the WAN's
 * DHCP clients in place: branch traffic keeps flowing and the WAN keeps its lease while the agent
 * restarts (upgrade, reboot request, crash), and the next agent adopts that state without
 * restarting a tunnel or a DHCP client. `reset()` removes all of it.
 */
export class LinuxDataPlane implements DataPlane {
  readonly kind = 'linux' as const;
  private applied: DeviceConfig | null = null;
  private installed: LinuxDesired;
  private links = new Map<string, TunnelLinkState>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly ctx: ReconcileContext,
    private readonly tcpConnect: TcpConnect,
    private readonly onError: (err: unknown) => void,
    /** Probes run beside applies, not queued behind them in the shell. */
    private readonly probeRunner: CommandRunner,
    private readonly shell: ShellRunner | null,
  ) {
    this.installed = this.desire(null);
  }

  /** Loads (or makes) the tunnel key and the addresses ledger from the state directory. */
  static async open(options: LinuxDataPlaneOptions): Promise<LinuxDataPlane> {
    const key = await loadOrCreateTunnelKey(options.stateDir);
    const shell = options.runner ? null : shellRunner();
    const ctx: ReconcileContext = {
      runner: options.runner ?? (shell as ShellRunner).run,
      stateDir: options.stateDir,
      key,
      wireguard: { ...DEFAULT_WIREGUARD_OPTIONS, ...options.wireguard },
      owned: await loadOwnedAddresses(options.stateDir),
      links: [],
    };
    return new LinuxDataPlane(
      ctx,
      options.tcpConnect ?? connectInProcess,
      options.onError ?? (() => undefined),
      options.runner ?? hostRunner,
      shell,
    );
  }

  /** The device's WireGuard public key (base64), for the hello and the access points' peer lists. */
  get tunnelPublicKey(): string {
    return this.ctx.key.publicKey;
  }

  apply(config: DeviceConfig): Promise<void> {
    return this.serialize(() => this.applyNow(config));
  }

  verify(config: DeviceConfig): Promise<string[]> {
    return this.inspect(config).then((inspection) => inspection.differences);
  }

  /** Like `verify`, plus the tunnels the config names that are not built and why. */
  inspect(config: DeviceConfig): Promise<LinuxInspection> {
    return this.serialize(async () => {
      const desired = this.desire(config);
      const found = await differences(this.ctx, desired);
      if (this.applied?.revision !== config.revision)
        found.unshift(`revision: want ${config.revision}, have ${this.applied?.revision ?? null}`);
      return { differences: found, skipped: desired.skipped };
    });
  }

  reset(): Promise<void> {
    return this.serialize(async () => {
      await converge(this.ctx, this.desire(null));
      this.applied = null;
      this.installed = this.desire(null);
    });
  }

  snapshot(): DataPlaneState {
    const config = this.applied;
    if (!config) return { revision: null, hash: null, ports: [], routes: [], aclRules: [], tunnels: [] };
    const operstate = new Map(
      this.ctx.links.map((link) => [
        link.name,
        link.up && link.operstate !== 'DOWN' && link.operstate !== 'LOWERLAYERDOWN',
      ]),
    );
    const ports = desiredPorts(config).map((port) => {
      // A DHCP WAN port shows the address its lease script last recorded.
      const lease = port.mode === 'dhcp' ? readWanLease(this.ctx.stateDir, port.name) : null;
      return {
        ...port,
        status: operstate.get(port.name) ? ('up' as const) : ('down' as const),
        ...(lease ? { address: lease.address } : {}),
      };
    });
    const device = this.installed.routeDevice;
    const routes = desiredRoutes(config)
      .filter((route) => route.kind !== 'tunnel' || device !== null)
      .map((route) => (route.kind === 'tunnel' ? { ...route, interface: device as string } : route))
      .sort(compareRoutes);
    const tunnels = config.tunnels.map((tunnel): TunnelState => {
      const link = this.links.get(tunnel.accessPoint);
      return {
        ...tunnel,
        status: link?.status ?? 'unknown',
        carrying: link?.carrying ?? false,
        ...(link?.rttMs !== undefined ? { rttMs: link.rttMs } : {}),
      };
    });
    return structuredClone({
      revision: config.revision,
      hash: config.hash,
      ports,
      routes,
      aclRules: config.aclRules,
      tunnels,
    });
  }

  /** Records link states; when the carrying tunnel changes, the cloud's routes move to it. */
  setTunnelStates(states: readonly TunnelLinkState[]): void {
    for (const state of states)
      if (this.links.has(state.accessPoint)) this.links.set(state.accessPoint, { ...state });
    if (!this.applied || this.closed) return;
    // Planned when its turn comes, from the config applied then: an apply queued ahead of this
    // move may bring routes (a static WAN default, say) that a plan made now would delete.
    this.serialize(async () => {
      const config = this.applied;
      if (!config || this.closed) return;
      const desired = this.desire(config);
      if (desired.routeDevice === this.installed.routeDevice) return;
      forgetMachineRead(this.ctx);
      const changes = await routesStep.plan(this.ctx, desired);
      await executeChanges(this.ctx.runner, changes, 'moving routes to the carrying tunnel', {
        batchIp: true,
      });
      this.installed = desired;
    }).catch(this.onError);
  }

  /** Resolves once every queued apply, verify and route move has finished. */
  async idle(): Promise<void> {
    await this.queue;
  }

  probe(request: PathProbe): Promise<PathProbeResult> {
    this.assertOpen();
    const lan = this.applied?.ports.lan[0]?.address.split('/')[0];
    return probePath(
      {
        runner: this.probeRunner,
        tcpConnect: this.tcpConnect,
        aclRules: this.applied?.aclRules ?? [],
        ...(lan ? { defaultSource: lan } : {}),
        tunnelOf: (dev) => this.installed.tunnels.find((t) => t.name === dev)?.accessPoint,
      },
      request,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.serialize(async () => {
      this.closed = true;
      for (const server of await readDhcpServers(this.ctx.stateDir)) {
        if (server.pid !== null)
          await executeChanges(
            this.ctx.runner,
            [
              {
                reason: `stopping dnsmasq on ${server.port}`,
                commands: [{ cmd: 'kill', args: [String(server.pid)] }],
              },
            ],
            'closing',
          );
      }
      this.shell?.close();
    });
  }

  private async applyNow(config: DeviceConfig): Promise<void> {
    this.assertOpen();
    const previous = this.applied;
    for (const tunnel of config.tunnels) {
      const kept = previous?.tunnels.find(
        (t) => t.accessPoint === tunnel.accessPoint && t.address === tunnel.address,
      );
      if (!kept)
        this.links.set(tunnel.accessPoint, {
          accessPoint: tunnel.accessPoint,
          status: 'unknown',
          carrying: tunnel.role === 'active',
        });
    }
    for (const accessPoint of [...this.links.keys()])
      if (!config.tunnels.some((t) => t.accessPoint === accessPoint)) this.links.delete(accessPoint);
    if (![...this.links.values()].some((link) => link.carrying)) {
      for (const tunnel of config.tunnels)
        this.links.set(tunnel.accessPoint, {
          ...this.links.get(tunnel.accessPoint)!,
          carrying: tunnel.role === 'active',
        });
    }
    const desired = this.desire(config);
    try {
      await converge(this.ctx, desired);
    } catch (err) {
      const rollback = await this.rollBack(previous);
      throw new AgentError(
        'DATAPLANE_APPLY_FAILED',
        `revision ${config.revision}: ${errorMessage(err)}; ${rollback}`,
        {
          revision: config.revision,
          ...(err instanceof AgentError ? err.details : {}),
        },
      );
    }
    this.applied = structuredClone(config);
    this.installed = desired;
  }

  private async rollBack(previous: DeviceConfig | null): Promise<string> {
    try {
      await converge(this.ctx, this.desire(previous));
      return previous ? `rolled back to revision ${previous.revision}` : 'rolled back to the empty state';
    } catch (err) {
      return `rolling back also failed: ${errorMessage(err)}`;
    }
  }

  private desire(config: DeviceConfig | null): LinuxDesired {
    const carrying = [...this.links.values()].find((link) => link.carrying)?.accessPoint ?? null;
    return desiredLinux(config, { stateDir: this.ctx.stateDir, wireguard: this.ctx.wireguard, carrying });
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentError('DATAPLANE_CLOSED', 'the linux data plane is closed');
  }
}
