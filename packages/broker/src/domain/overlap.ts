import { SagError } from '../errors.js';
import { type Block, blocksOverlap, parseBlock } from './cidr.js';
import type { Ccn, Cen, Gateway, Topology, Vpc } from './types.js';

/**
 * Which private blocks must stay disjoint (SPEC §3): a gateway's blocks, the blocks of every
 * other gateway in its CCN, and every branch and VPC block attached to the CEN its CCN is attached
 * to. Reach through a CEN counts regardless of the cross-area rule: a bandwidth package bought
 * later must not be able to create an overlap.
 */

/** Something that owns address blocks: a branch gateway or a VPC. */
export interface BlockOwner {
  kind: 'gateway' | 'vpc';
  id: string;
  name: string;
  cidrs: readonly string[];
}

/** The network through which two owners reach each other. */
export interface Meeting {
  kind: 'ccn' | 'cen';
  id: string;
  name: string;
}

export interface ReachableOwner {
  owner: BlockOwner;
  via: Meeting;
}

export interface CidrConflict {
  owner: BlockOwner;
  cidr: string;
  other: BlockOwner;
  otherCidr: string;
  /** null when the two blocks belong to the same owner. */
  via: Meeting | null;
}

const STORED_PREFIX = { min: 0, max: 32 };

export function gatewayOwner(gateway: Gateway): BlockOwner {
  return { kind: 'gateway', id: gateway.id, name: gateway.name, cidrs: gateway.privateCidrs };
}

export function vpcOwner(vpc: Vpc): BlockOwner {
  return { kind: 'vpc', id: vpc.id, name: vpc.name, cidrs: vpc.cidrBlocks };
}

function meetingOf(kind: 'ccn' | 'cen', entity: Ccn | Cen): Meeting {
  return { kind, id: entity.id, name: entity.name };
}

function blocksOf(owner: BlockOwner): Block[] {
  return owner.cidrs.map((cidr, i) => parseBlock(cidr, `${owner.id} cidr[${i}]`, STORED_PREFIX));
}

export function gatewaysOfCcn(topology: Topology, ccnId: string): Gateway[] {
  return [...topology.gateways.values()].filter((gateway) => gateway.ccnId === ccnId);
}

/** Every gateway of every CCN attached to the CEN, then every attached VPC. */
function ownersInCen(topology: Topology, cenId: string): BlockOwner[] {
  const ccnIds = new Set([...topology.ccns.values()].filter((c) => c.cenId === cenId).map((c) => c.id));
  const gateways = [...topology.gateways.values()].filter((g) => g.ccnId !== null && ccnIds.has(g.ccnId));
  const vpcs = [...topology.vpcs.values()].filter((v) => v.cenId === cenId);
  return [...gateways.map(gatewayOwner), ...vpcs.map(vpcOwner)];
}

function throughCen(topology: Topology, cenId: string | null, skip: (owner: BlockOwner) => boolean) {
  const cen = cenId === null ? undefined : topology.cens.get(cenId);
  if (!cen) return [];
  const via = meetingOf('cen', cen);
  return ownersInCen(topology, cen.id)
    .filter((owner) => !skip(owner))
    .map((owner) => ({ owner, via }));
}

/** Everything attached to the CEN of a CCN, except the CCN's own gateways. */
export function reachableFromCcn(topology: Topology, ccnId: string): ReachableOwner[] {
  const ccn = topology.ccns.get(ccnId);
  if (!ccn) return [];
  const members = new Set(gatewaysOfCcn(topology, ccnId).map((g) => g.id));
  return throughCen(topology, ccn.cenId, (owner) => owner.kind === 'gateway' && members.has(owner.id));
}

/** The other gateways of its CCN, then everything reachable through the CCN's CEN. */
export function reachableFromGateway(topology: Topology, gatewayId: string): ReachableOwner[] {
  const gateway = topology.gateways.get(gatewayId);
  const ccn = gateway?.ccnId ? topology.ccns.get(gateway.ccnId) : undefined;
  if (!ccn) return [];
  const via = meetingOf('ccn', ccn);
  const peers = gatewaysOfCcn(topology, ccn.id)
    .filter((g) => g.id !== gatewayId)
    .map((g) => ({ owner: gatewayOwner(g), via }));
  return [...peers, ...reachableFromCcn(topology, ccn.id)];
}

/** Everything else attached to the VPC's CEN. */
export function reachableFromVpc(topology: Topology, vpcId: string): ReachableOwner[] {
  const vpc = topology.vpcs.get(vpcId);
  if (!vpc) return [];
  return throughCen(topology, vpc.cenId, (owner) => owner.kind === 'vpc' && owner.id === vpcId);
}

/** The first pair of an owner's own blocks that overlap, if any. */
export function findOwnConflict(owner: BlockOwner): CidrConflict | null {
  const blocks = blocksOf(owner);
  for (let i = 0; i < blocks.length; i++) {
    for (let j = 0; j < i; j++) {
      if (blocksOverlap(blocks[i], blocks[j])) {
        return { owner, cidr: blocks[i].text, other: owner, otherCidr: blocks[j].text, via: null };
      }
    }
  }
  return null;
}

/** The first block of `owner` that overlaps a block of something it reaches, if any. */
export function findConflict(owner: BlockOwner, reachable: readonly ReachableOwner[]): CidrConflict | null {
  const blocks = blocksOf(owner);
  for (const { owner: other, via } of reachable) {
    const otherBlocks = blocksOf(other);
    for (const block of blocks) {
      const hit = otherBlocks.find((candidate) => blocksOverlap(block, candidate));
      if (hit) return { owner, cidr: block.text, other, otherCidr: hit.text, via };
    }
  }
  return null;
}

function describe(owner: BlockOwner): string {
  return `${owner.kind === 'vpc' ? 'VPC' : 'gateway'} ${owner.id} (${owner.name})`;
}

function describeVia(via: Meeting): string {
  return via.kind === 'ccn'
    ? `in CCN ${via.id} (${via.name})`
    : `reachable through CEN ${via.id} (${via.name})`;
}

export function cidrConflictError(conflict: CidrConflict): SagError {
  const { owner, cidr, other, otherCidr, via } = conflict;
  const message = via
    ? `CIDR ${cidr} of ${describe(owner)} overlaps ${otherCidr} of ${describe(other)} ${describeVia(via)}; choose blocks that do not overlap`
    : `CIDR ${cidr} of ${describe(owner)} overlaps its own block ${otherCidr}; the blocks of one ${owner.kind === 'vpc' ? 'VPC' : 'gateway'} must not overlap`;
  return new SagError('CIDR_CONFLICT', message, {
    cidr,
    resourceId: owner.id,
    resourceType: owner.kind,
    conflictingCidr: otherCidr,
    conflictingResourceId: other.id,
    conflictingResourceType: other.kind,
    via: via?.id ?? null,
  });
}

function assertNone(conflict: CidrConflict | null): void {
  if (conflict) throw cidrConflictError(conflict);
}

/** A gateway's blocks against each other and everything it reaches (setNetwork, bindCcnGateway). */
export function assertGatewayBlocksFree(topology: Topology, gatewayId: string): void {
  const gateway = topology.gateways.get(gatewayId);
  if (!gateway) return;
  const owner = gatewayOwner(gateway);
  assertNone(findOwnConflict(owner));
  assertNone(findConflict(owner, reachableFromGateway(topology, gatewayId)));
}

/** Every gateway of a CCN against what the CCN's CEN holds (attaching a CCN to a CEN). */
export function assertCcnBlocksFree(topology: Topology, ccnId: string): void {
  const reachable = reachableFromCcn(topology, ccnId);
  for (const gateway of gatewaysOfCcn(topology, ccnId))
    assertNone(findConflict(gatewayOwner(gateway), reachable));
}

/** A VPC's blocks against each other and everything else in its CEN (creating or attaching a VPC). */
export function assertVpcBlocksFree(topology: Topology, vpcId: string): void {
  const vpc = topology.vpcs.get(vpcId);
  if (!vpc) return;
  const owner = vpcOwner(vpc);
  assertNone(findOwnConflict(owner));
  assertNone(findConflict(owner, reachableFromVpc(topology, vpcId)));
}
