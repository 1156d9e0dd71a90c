import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type InstalledLink,
  ownedAfter,
  type PortAddress,
  parseLinks,
  planAddresses,
  readLinksCommand,
} from './addresses.js';
import type { LinuxDesired } from './desired.js';
import { planDhcp, readDhcpServers } from './dnsmasq.js';
import { planForwarding, readForwardingCommand } from './forwarding.js';
import { ACL_TABLE, parseAclListing, planAcl } from './nftables.js';
import { parseRoutes, planRoutes, readRoutesCommand } from './routes.js';
import { type Change, type CommandRunner, executeChanges, readCommand } from './runner.js';
import { planWanDhcpStarts, planWanDhcpStops, readWanDhcpClients } from './wanDhcp.js';
import {
  type InstalledTunnel,
  parseTunnelLinks,
  parseWgDump,
  planTunnels,
  type TunnelKeyRef,
  type WireguardOptions,
} from './wireguard.js';

export interface ReconcileContext {
  runner: CommandRunner;
  stateDir: string;
  key: TunnelKeyRef;
  wireguard: WireguardOptions;
  /** Addresses this data plane put on ports (and may therefore remove). */
  owned: PortAddress[];
  /** The ports as last read, for port status in snapshots. */
  links: InstalledLink[];
}

/** The addresses ledger survives restarts so an address dropped from the config is still removed. */
export const OWNED_ADDRESSES_FILE = 'linux-addresses.json';

export async function loadOwnedAddresses(stateDir: string): Promise<PortAddress[]> {
  try {
    return JSON.parse(await readFile(join(stateDir, OWNED_ADDRESSES_FILE), 'utf8')) as PortAddress[];
  } catch {
    return [];
  }
}

async function saveOwnedAddresses(stateDir: string, owned: PortAddress[]): Promise<void> {
  await writeFile(join(stateDir, OWNED_ADDRESSES_FILE), `${JSON.stringify(owned)}\n`, { mode: 0o600 });
}

async function readTunnels(runner: CommandRunner): Promise<InstalledTunnel[]> {
  const links = parseTunnelLinks(
    await readCommand(runner, 'reading tunnels', 'ip', ['-json', 'link', 'show']),
  );
  const tunnels: InstalledTunnel[] = [];
  for (const link of links) {
    const dump = await runner('wg', ['show', link.name, 'dump']);
    tunnels.push(parseWgDump(link.name, link.up, dump.code === 0 ? dump.stdout : ''));
  }
  return tunnels;
}

/** One concern of the machine's state: how to read it and what to change. */
export interface Step {
  name: string;
  plan(ctx: ReconcileContext, desired: LinuxDesired): Promise<Change[]>;
  /** Runs after the step's commands (or after they failed), e.g. to update a ledger. */
  settle?(ctx: ReconcileContext, desired: LinuxDesired, changed: boolean): Promise<void>;
}

const aclStep: Step = {
  name: 'ACL',
  async plan(ctx, desired) {
    const listing = await ctx.runner('nft', ['list', 'table', ...ACL_TABLE.split(' ')]);
    return planAcl(desired.acl, listing.code === 0 ? parseAclListing(listing.stdout) : null);
  },
};

const portsStep: Step = {
  name: 'ports',
  async plan(ctx, desired) {
    const read = readLinksCommand();
    ctx.links = parseLinks(await readCommand(ctx.runner, 'reading ports', read.cmd, read.args));
    const forwarding = await readCommand(
      ctx.runner,
      'reading forwarding',
      readForwardingCommand().cmd,
      readForwardingCommand().args,
    );
    return [
      ...planAddresses(desired.ports, desired.addresses, ctx.links, ctx.owned),
      ...planForwarding(desired.forwarding, forwarding),
    ];
  },
  async settle(ctx, desired, changed) {
    if (changed) {
      const read = readLinksCommand();
      ctx.links = parseLinks(await readCommand(ctx.runner, 'reading ports', read.cmd, read.args));
    }
    const owned = ownedAfter(ctx.owned, desired.addresses, ctx.links);
    if (JSON.stringify(owned) === JSON.stringify(ctx.owned)) return;
    ctx.owned = owned;
    await saveOwnedAddresses(ctx.stateDir, owned);
  },
};

/** Stops DHCP clients before the ports step, so a port turning static is rid of its lease first. */
const wanDhcpStopStep: Step = {
  name: 'WAN DHCP',
  async plan(ctx, desired) {
    return planWanDhcpStops(desired.wanDhcp, await readWanDhcpClients(ctx.stateDir));
  },
};

/** Starts DHCP clients once the ports step brought their ports up, before the tunnels need the WAN. */
const wanDhcpStep: Step = {
  name: 'WAN DHCP',
  async plan(ctx, desired) {
    return planWanDhcpStarts(desired.wanDhcp, await readWanDhcpClients(ctx.stateDir), ctx.links);
  },
};

const tunnelsStep: Step = {
  name: 'tunnels',
  async plan(ctx, desired) {
    return planTunnels(desired.tunnels, await readTunnels(ctx.runner), ctx.key, ctx.wireguard.implementation);
  },
};

export const routesStep: Step = {
  name: 'routes',
  async plan(ctx, desired) {
    const read = readRoutesCommand();
    return planRoutes(
      desired.routes,
      parseRoutes(await readCommand(ctx.runner, 'reading routes', read.cmd, read.args)),
    );
  },
};

const dhcpStep: Step = {
  name: 'LAN DHCP',
  async plan(ctx, desired) {
    return planDhcp(desired.dhcp, await readDhcpServers(ctx.stateDir));
  },
};

/**
 * The ACL goes first so nothing is ever forwarded unfiltered; the WAN's DHCP clients around the
 * ports step, before the tunnels that ride the WAN; dnsmasq last, once its port has its address.
 */
export const STEPS: readonly Step[] = [
  aclStep,
  wanDhcpStopStep,
  portsStep,
  wanDhcpStep,
  tunnelsStep,
  routesStep,
  dhcpStep,
];

/** Brings the machine to `desired`, step by step; returns how many commands changed something. */
export async function converge(
  ctx: ReconcileContext,
  desired: LinuxDesired,
  steps: readonly Step[] = STEPS,
): Promise<number> {
  let executed = 0;
  for (const step of steps) {
    const changes = await step.plan(ctx, desired);
    try {
      executed += await executeChanges(ctx.runner, changes, step.name);
    } finally {
      await step.settle?.(ctx, desired, changes.length > 0);
    }
  }
  return executed;
}

/** Every difference between the machine and `desired`, one sentence each; nothing is changed. */
export async function differences(ctx: ReconcileContext, desired: LinuxDesired): Promise<string[]> {
  const out: string[] = [];
  for (const step of STEPS) for (const change of await step.plan(ctx, desired)) out.push(change.reason);
  return out;
}
