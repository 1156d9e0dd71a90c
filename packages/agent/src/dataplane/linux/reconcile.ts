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
import { planForwarding } from './forwarding.js';
import { readMany } from './machineRead.js';
import { ACL_TABLE, parseAclListing, planAcl } from './nftables.js';
import { parseRoutes, planRoutes, readRoutesCommand } from './routes.js';
import {
  type Change,
  type Command,
  type CommandResult,
  type CommandRunner,
  executeChanges,
  readOutput,
} from './runner.js';
import { planWanDhcpStarts, planWanDhcpStops, readWanDhcpClients } from './wanDhcp.js';
import {
  type InstalledTunnel,
  parseWgDump,
  planTunnels,
  splitWgDumpAll,
  type TunnelKeyRef,
  type WireguardOptions,
} from './wireguard.js';
import { isTunnelInterface } from './wireguardNames.js';

export interface ReconcileContext {
  runner: CommandRunner;
  stateDir: string;
  key: TunnelKeyRef;
  wireguard: WireguardOptions;
  /** Addresses this data plane put on ports (and may therefore remove). */
  owned: PortAddress[];
  /** The ports as last read, for port status in snapshots. */
  links: InstalledLink[];
  /** The machine as read at the start of this pass or after its last change; see `converge`. */
  machine?: MachineRead;
  /** What the pass's remaining steps read, so one read fetches it all. */
  ahead?: readonly ReadName[];
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

/** Every read a pass needs, taken at once by one shell (`readMany`). */
const READS = {
  acl: { cmd: 'nft', args: ['list', 'table', ...ACL_TABLE.split(' ')] },
  links: readLinksCommand(),
  // `cat` rather than `sysctl -n net.ipv4.ip_forward`: same answer, a much cheaper program.
  forwarding: { cmd: 'cat', args: ['/proc/sys/net/ipv4/ip_forward'] },
  wireguard: { cmd: 'wg', args: ['show', 'all', 'dump'] },
  routes: readRoutesCommand(),
} satisfies Record<string, Command>;

/** What the machine held when last read; each part is forgotten when a step may have changed it. */
export type MachineRead = Partial<Record<ReadName, CommandResult>>;
type ReadName = keyof typeof READS;

/**
 * One part of the machine, from the last read. A missing part is read together with every other
 * missing one the pass's remaining steps read (`ctx.ahead`), in one shell.
 */
async function machine(ctx: ReconcileContext, name: ReadName): Promise<CommandResult> {
  const known = ctx.machine ?? {};
  const found = known[name];
  if (found) return found;
  const names = (Object.keys(READS) as ReadName[]).filter(
    (other) => other === name || (!known[other] && ctx.ahead?.includes(other)),
  );
  const results = await readMany(
    ctx.runner,
    names.map((other) => READS[other]),
  );
  ctx.machine = { ...known, ...Object.fromEntries(names.map((other, i) => [other, results[i]])) };
  return results[names.indexOf(name)];
}

/** The next plan reads the machine again (a pass starts, or something outside the steps changed it). */
export function forgetMachineRead(ctx: ReconcileContext, parts?: readonly ReadName[]): void {
  if (!parts) ctx.machine = undefined;
  else if (ctx.machine) for (const part of parts) delete ctx.machine[part];
}

async function readLinks(ctx: ReconcileContext): Promise<InstalledLink[]> {
  ctx.links = parseLinks(readOutput('reading ports', READS.links, await machine(ctx, 'links')));
  return ctx.links;
}

/**
 * The owned tunnels: their links from `ip -json address show`, their WireGuard state from
 * `wg show all dump`, or one `wg show NAME dump` each when that failed (another program's stale
 * socket makes `all` fail).
 */
async function readTunnels(ctx: ReconcileContext): Promise<InstalledTunnel[]> {
  const links = (await readLinks(ctx)).filter((link) => isTunnelInterface(link.name));
  if (links.length === 0) return [];
  const all = await machine(ctx, 'wireguard');
  const dumps = all.code === 0 ? splitWgDumpAll(all.stdout) : null;
  const tunnels: InstalledTunnel[] = [];
  for (const link of links) {
    let dump = dumps?.get(link.name);
    if (dumps === null) {
      const one = await ctx.runner('wg', ['show', link.name, 'dump']);
      dump = one.code === 0 ? one.stdout : '';
    }
    tunnels.push(parseWgDump(link.name, link.up, dump ?? ''));
  }
  return tunnels;
}

/** One concern of the machine's state: how to read it and what to change. */
export interface Step {
  name: string;
  plan(ctx: ReconcileContext, desired: LinuxDesired): Promise<Change[]>;
  /** Runs after the step's commands (or after they failed), e.g. to update a ledger. */
  settle?(ctx: ReconcileContext, desired: LinuxDesired, changed: boolean): Promise<void>;
  /** The parts of the machine its plan (and settle) read. */
  reads: readonly ReadName[];
  /**
   * The parts of the machine its changes may alter, read again after them; all when not said. A
   * function picks them from the changes made.
   */
  alters?: readonly ReadName[] | ((changes: readonly Change[]) => readonly ReadName[]);
}

const aclStep: Step = {
  name: 'ACL',
  reads: ['acl'],
  alters: ['acl'],
  async plan(ctx, desired) {
    const listing = await machine(ctx, 'acl');
    return planAcl(desired.acl, listing.code === 0 ? parseAclListing(listing.stdout) : null);
  },
};

const portsStep: Step = {
  name: 'ports',
  reads: ['links', 'forwarding'],
  async plan(ctx, desired) {
    const links = await readLinks(ctx);
    const forwarding = readOutput('reading forwarding', READS.forwarding, await machine(ctx, 'forwarding'));
    return [
      ...planAddresses(desired.ports, desired.addresses, links, ctx.owned),
      ...planForwarding(desired.forwarding, forwarding),
    ];
  },
  async settle(ctx, desired, changed) {
    if (changed) await readLinks(ctx);
    const owned = ownedAfter(ctx.owned, desired.addresses, ctx.links);
    if (JSON.stringify(owned) === JSON.stringify(ctx.owned)) return;
    ctx.owned = owned;
    await saveOwnedAddresses(ctx.stateDir, owned);
  },
};

/** Stops DHCP clients before the ports step, so a port turning static is rid of its lease first. */
const wanDhcpStopStep: Step = {
  name: 'WAN DHCP',
  reads: [],
  async plan(ctx, desired) {
    return planWanDhcpStops(desired.wanDhcp, await readWanDhcpClients(ctx.stateDir));
  },
};

/** Starts DHCP clients once the ports step brought their ports up, before the tunnels need the WAN. */
const wanDhcpStep: Step = {
  name: 'WAN DHCP',
  reads: [],
  async plan(ctx, desired) {
    return planWanDhcpStarts(desired.wanDhcp, await readWanDhcpClients(ctx.stateDir), ctx.links);
  },
};

const tunnelsStep: Step = {
  name: 'tunnels',
  reads: ['links', 'wireguard'],
  // A deleted tunnel takes its routes with it; a new or corrected one leaves the routes as they were.
  alters: (changes) =>
    changes.some((change) => change.commands.some(deletesLink))
      ? ['links', 'wireguard', 'routes']
      : ['links', 'wireguard'],
  async plan(ctx, desired) {
    return planTunnels(desired.tunnels, await readTunnels(ctx), ctx.key, ctx.wireguard.implementation);
  },
};

const deletesLink = (command: Command) =>
  command.cmd === 'ip' && command.args[0] === 'link' && command.args[1] === 'del';

export const routesStep: Step = {
  name: 'routes',
  reads: ['routes'],
  alters: ['routes'],
  async plan(ctx, desired) {
    return planRoutes(
      desired.routes,
      parseRoutes(readOutput('reading routes', READS.routes, await machine(ctx, 'routes'))),
    );
  },
};

const dhcpStep: Step = {
  name: 'LAN DHCP',
  reads: [],
  alters: [],
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

/**
 * Brings the machine to `desired`, step by step; returns how many commands changed something. The
 * machine is read once, and again only after a step changed what later steps read.
 */
export async function converge(
  ctx: ReconcileContext,
  desired: LinuxDesired,
  steps: readonly Step[] = STEPS,
): Promise<number> {
  forgetMachineRead(ctx);
  let executed = 0;
  for (const [i, step] of steps.entries()) {
    ctx.ahead = readsOf(steps.slice(i));
    const changes = await step.plan(ctx, desired);
    try {
      executed += await executeChanges(ctx.runner, changes, step.name, {
        batchIp: true,
        // No kernel WireGuard: later tunnels go straight to wireguard-go rather than fail first.
        onFallback: (command) => {
          if (command.fallback?.cmd === 'wireguard-go' && ctx.wireguard.implementation === 'auto')
            ctx.wireguard.implementation = 'userspace';
        },
      });
    } finally {
      if (changes.length > 0)
        forgetMachineRead(ctx, typeof step.alters === 'function' ? step.alters(changes) : step.alters);
      ctx.ahead = readsOf(steps.slice(i + 1));
      await step.settle?.(ctx, desired, changes.length > 0);
    }
  }
  ctx.ahead = undefined;
  return executed;
}

function readsOf(steps: readonly Step[]): ReadName[] {
  return [...new Set(steps.flatMap((step) => step.reads))];
}

/** Every difference between the machine and `desired`, one sentence each; nothing is changed. */
export async function differences(ctx: ReconcileContext, desired: LinuxDesired): Promise<string[]> {
  forgetMachineRead(ctx);
  ctx.ahead = readsOf(STEPS);
  const out: string[] = [];
  for (const step of STEPS)
    for (const change of await step.plan(ctx, desired))
      if (!out.includes(change.reason)) out.push(change.reason);
  ctx.ahead = undefined;
  return out;
}
