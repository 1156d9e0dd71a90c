import { AgentError, errorMessage } from '../../errors.js';
import { planForwarding, readForwardingCommand } from '../linux/forwarding.js';
import type { DesiredRoute } from '../linux/routes.js';
import { type Change, type CommandRunner, executeChanges, hostRunner, readCommand } from '../linux/runner.js';
import { loadOrCreateTunnelKey, type TunnelKey } from '../linux/tunnelKey.js';
import type { WireguardOptions } from '../linux/wireguard.js';
import { type EdgeConfig, validateEdgeConfig } from './edgeConfig.js';
import { desiredEdgeRoutes, parseEdgeRoutes, planEdgeRoutes, readEdgeRoutesCommand } from './edgeRoutes.js';
import {
  type DesiredEdgeInterface,
  desiredEdgeInterface,
  EDGE_INTERFACE,
  parseEdgeInterface,
  planEdgeInterface,
  readEdgeLinkCommand,
} from './edgeWireguard.js';
import {
  parseSecurityGroupListing,
  planSecurityGroups,
  type RenderedSecurityGroups,
  readSecurityGroupsCommand,
  renderSecurityGroups,
} from './securityGroupsNft.js';

export interface EdgeDataPlaneOptions {
  /** Holds the edge's WireGuard key (`tunnel-key`, 0600). */
  stateDir: string;
  runner?: CommandRunner;
  /** `auto` tries the kernel module first, then wireguard-go. */
  implementation?: WireguardOptions['implementation'];
}

interface EdgeDesired {
  securityGroups: RenderedSecurityGroups | null;
  forwarding: boolean;
  wireguard: DesiredEdgeInterface | null;
  routes: DesiredRoute[];
}

interface EdgeContext {
  runner: CommandRunner;
  key: TunnelKey;
  implementation: WireguardOptions['implementation'];
}

interface EdgeStep {
  name: string;
  plan(ctx: EdgeContext, desired: EdgeDesired): Promise<Change[]>;
}

const read = (ctx: EdgeContext, step: string, command: { cmd: string; args: string[] }) =>
  readCommand(ctx.runner, step, command.cmd, command.args);

/** Security groups first, so nothing is forwarded to an instance unfiltered; routes once the tunnel exists. */
const STEPS: readonly EdgeStep[] = [
  {
    name: 'security groups',
    async plan(ctx, desired) {
      const command = readSecurityGroupsCommand();
      const listing = await ctx.runner(command.cmd, command.args);
      return planSecurityGroups(
        desired.securityGroups,
        listing.code === 0 ? parseSecurityGroupListing(listing.stdout) : null,
      );
    },
  },
  {
    name: 'forwarding',
    async plan(ctx, desired) {
      return planForwarding(
        desired.forwarding,
        await read(ctx, 'reading forwarding', readForwardingCommand()),
      );
    },
  },
  {
    name: 'tunnels',
    async plan(ctx, desired) {
      const link = readEdgeLinkCommand();
      const found = await ctx.runner(link.cmd, link.args);
      const dump = found.code === 0 ? await ctx.runner('wg', ['show', EDGE_INTERFACE, 'dump']) : null;
      const installed = parseEdgeInterface(found, dump?.code === 0 ? dump.stdout : '');
      return planEdgeInterface(desired.wireguard, installed, ctx.key, ctx.implementation);
    },
  },
  {
    name: 'routes',
    async plan(ctx, desired) {
      const installed = parseEdgeRoutes(await read(ctx, 'reading routes', readEdgeRoutesCommand()));
      return planEdgeRoutes(desired.routes, installed);
    },
  },
];

function desire(config: EdgeConfig | null): EdgeDesired {
  return {
    securityGroups: config ? renderSecurityGroups(config) : null,
    forwarding: config !== null,
    wireguard: desiredEdgeInterface(config),
    routes: desiredEdgeRoutes(config),
  };
}

/**
 * The access point's data plane: the branch tunnels on sag-edge0 (one peer per gateway), routes
 * for the branch blocks into it (protocol 223), and the VPC instances' security groups in the
 * nftables table `inet opensag_edge`. Every apply reads the machine and changes only what differs;
 * on failure it converges back to the previous config.
 *
 * `close()` leaves the state in place so branch traffic keeps flowing across a restart; `reset()`
 * removes it.
 */
export class EdgeDataPlane {
  private applied: EdgeConfig | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly ctx: EdgeContext) {}

  static async open(options: EdgeDataPlaneOptions): Promise<EdgeDataPlane> {
    return new EdgeDataPlane({
      runner: options.runner ?? hostRunner,
      key: await loadOrCreateTunnelKey(options.stateDir),
      implementation: options.implementation ?? 'auto',
    });
  }

  /** The edge's WireGuard public key, which the gateways get as their access point's key. */
  get tunnelPublicKey(): string {
    return this.ctx.key.publicKey;
  }

  apply(config: EdgeConfig): Promise<void> {
    return this.serialize(async () => {
      this.assertOpen();
      const errors = validateEdgeConfig(config);
      if (errors.length > 0)
        throw new AgentError('DATAPLANE_APPLY_FAILED', `edge config not applied: ${errors.join('; ')}`, {
          errors,
        });
      const previous = this.applied;
      try {
        await this.converge(desire(config));
      } catch (err) {
        const rollback = await this.rollBack(previous);
        throw new AgentError('DATAPLANE_APPLY_FAILED', `edge: ${errorMessage(err)}; ${rollback}`, {
          ...(err instanceof AgentError ? err.details : {}),
        });
      }
      this.applied = structuredClone(config);
    });
  }

  /** Every difference between the machine and `config`, one sentence each; nothing is changed. */
  verify(config: EdgeConfig): Promise<string[]> {
    return this.serialize(async () => {
      const desired = desire(config);
      const found: string[] = [];
      for (const step of STEPS)
        for (const change of await step.plan(this.ctx, desired)) found.push(change.reason);
      return found;
    });
  }

  /** The config last applied in full, or null. */
  snapshot(): EdgeConfig | null {
    return this.applied ? structuredClone(this.applied) : null;
  }

  /** Removes the interface, routes and table this data plane installed. */
  reset(): Promise<void> {
    return this.serialize(async () => {
      await this.converge(desire(null));
      this.applied = null;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.serialize(async () => {
      this.closed = true;
    });
  }

  private async converge(desired: EdgeDesired): Promise<number> {
    let executed = 0;
    for (const step of STEPS)
      executed += await executeChanges(this.ctx.runner, await step.plan(this.ctx, desired), step.name);
    return executed;
  }

  private async rollBack(previous: EdgeConfig | null): Promise<string> {
    try {
      await this.converge(desire(previous));
      return previous ? 'rolled back to the previous edge config' : 'rolled back to the empty state';
    } catch (err) {
      return `rolling back also failed: ${errorMessage(err)}`;
    }
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new AgentError('DATAPLANE_CLOSED', 'the edge data plane is closed');
  }
}
