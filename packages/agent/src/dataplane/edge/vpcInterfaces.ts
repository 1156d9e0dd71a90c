import type { EdgeSettings } from '@opensag/proto';
import { type Ipv4Block, parseCidr, parseInterfaceAddress } from '../../ipv4.js';
import { type InstalledLink, parseLinks, readLinksCommand } from '../linux/addresses.js';
import type { CommandRunner } from '../linux/runner.js';
import { readCommand } from '../linux/runner.js';
import { type EdgeConfig, vpcOfAddress } from './edgeConfig.js';
import { EDGE_INTERFACE } from './edgeWireguard.js';

/** A VPC of the config that no local interface reaches, left out of what is applied. */
export interface UnreachedVpc {
  vpcId: string;
  cidrBlocks: string[];
  /** The instances left out with it. */
  instanceIds: string[];
}

export interface ResolvedEdge {
  config: EdgeConfig;
  unreached: UnreachedVpc[];
}

/** Links the edge never treats as the way to a VPC: loopback and its own tunnel. */
const NOT_A_VPC_LINK = new Set(['lo', EDGE_INTERFACE]);

const inside = (address: number, block: Ipv4Block) => address >= block.first && address <= block.last;

/**
 * The link toward a VPC: the first interface (in the kernel's order) holding an IPv4 address
 * inside one of the VPC's blocks, or undefined when none does.
 */
export function vpcInterface(
  cidrBlocks: readonly string[],
  links: readonly InstalledLink[],
): string | undefined {
  const blocks = cidrBlocks.map(parseCidr).filter((block): block is Ipv4Block => block !== null);
  return links.find(
    (link) =>
      !NOT_A_VPC_LINK.has(link.name) &&
      link.addresses.some((text) => {
        const parsed = parseInterfaceAddress(text);
        return parsed !== null && blocks.some((block) => inside(parsed.address, block));
      }),
  )?.name;
}

/**
 * The EdgeConfig the machine can apply: each VPC gets the interface that reaches it; a VPC no
 * interface reaches is left out together with its instances (and reported), so one VPC whose link
 * is not there yet does not keep the branch tunnels and the other VPCs from working.
 */
export function resolveEdge(settings: EdgeSettings, links: readonly InstalledLink[]): ResolvedEdge {
  const vpcs: EdgeConfig['vpcs'] = [];
  const unreachedVpcs: EdgeSettings['vpcs'] = [];
  for (const vpc of settings.vpcs) {
    const name = vpcInterface(vpc.cidrBlocks, links);
    if (name) vpcs.push({ vpcId: vpc.vpcId, cidrBlocks: [...vpc.cidrBlocks], interface: name });
    else unreachedVpcs.push(vpc);
  }
  const unreached = unreachedVpcs.map((vpc) => ({
    vpcId: vpc.vpcId,
    cidrBlocks: [...vpc.cidrBlocks],
    instanceIds: settings.instances
      .filter((instance) => vpcOfAddress({ vpcs: [vpc] }, instance.privateIp))
      .map((instance) => instance.instanceId),
  }));
  const left = new Set(unreached.flatMap((vpc) => vpc.instanceIds));
  return {
    config: {
      listenPort: settings.listenPort,
      peers: structuredClone(settings.peers),
      vpcs,
      instances: structuredClone(settings.instances.filter((instance) => !left.has(instance.instanceId))),
      securityGroups: structuredClone(settings.securityGroups),
      ...(settings.routeSets ? { routeSets: structuredClone(settings.routeSets) } : {}),
    },
    unreached,
  };
}

/** Reads the machine's links and addresses (`ip -json address show`) and resolves the VPCs' interfaces. */
export async function resolveEdgeOnMachine(
  settings: EdgeSettings,
  runner: CommandRunner,
): Promise<ResolvedEdge> {
  const { cmd, args } = readLinksCommand();
  const json = await readCommand(runner, 'finding the links to the VPCs', cmd, args);
  return resolveEdge(settings, parseLinks(json));
}

/** "vpc-bj (10.2.0.0/16; instances i-db)": how warnings name a VPC left out. */
export function describeUnreached(vpc: UnreachedVpc): string {
  const instances = vpc.instanceIds.length > 0 ? `; instances ${vpc.instanceIds.join(', ')}` : '';
  return `${vpc.vpcId} (${vpc.cidrBlocks.join(', ')}${instances})`;
}
