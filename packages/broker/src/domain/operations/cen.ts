import { SagError } from '../../errors.js';
import { previewChanges } from '../apply.js';
import { validateKnownArea } from '../catalogue.js';
import { validateDescription, validateName } from '../names.js';
import { assertCcnBlocksFree, assertVpcBlocksFree } from '../overlap.js';
import type { BandwidthPackage, Cen, Changeset, OperationContext, Topology } from '../types.js';
import { ccnAlreadyAttached } from './ccn.js';
import { copy, created, deleted, put, updated } from './changeset.js';
import { findEntity, KIND_WORDS, label, listIds } from './lookup.js';

export interface CreateCenInput {
  name: string;
  description?: string;
}

export interface AttachToCenInput {
  instanceType: 'vpc' | 'ccn';
  instanceId: string;
}

export interface BandwidthPackageInput {
  areas: string[];
  bandwidthMbps: number;
}

export const MAX_PACKAGE_MBPS = 10_000;

export function createCen(_topology: Topology, ctx: OperationContext, input: CreateCenInput): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  const cen: Cen = {
    id: ctx.newId('cen'),
    name,
    ...(description !== undefined ? { description } : {}),
    bandwidthPackages: [],
    createdAt: ctx.now.toISOString(),
  };
  return created('cen.create', 'cen', cen);
}

function attachmentsOf(topology: Topology, cenId: string): string[] {
  const ccns = [...topology.ccns.values()].filter((c) => c.cenId === cenId).map((c) => c.id);
  const vpcs = [...topology.vpcs.values()].filter((v) => v.cenId === cenId).map((v) => v.id);
  return [...ccns, ...vpcs];
}

export function deleteCen(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const cen = findEntity(topology, 'cen', id);
  const attached = attachmentsOf(topology, id);
  if (attached.length > 0) {
    throw new SagError(
      'IN_USE',
      `${label('cen', cen)} still has ${attached.length} attachment(s) (${listIds(attached)}); detach them first`,
      { cenId: cen.id, attachments: attached },
    );
  }
  return deleted('cen.delete', 'cen', cen);
}

/** A CCN or VPC joins at most one CEN, and only when none of its blocks overlaps what the CEN holds. */
export function attachToCen(
  topology: Topology,
  _ctx: OperationContext,
  cenId: string,
  input: AttachToCenInput,
): Changeset {
  const cen = findEntity(topology, 'cen', cenId);
  const kind = input.instanceType;
  if (kind !== 'vpc' && kind !== 'ccn') {
    throw new SagError(
      'INVALID_ARGUMENT',
      `instanceType: "${String(kind)}" is not attachable; use vpc or ccn`,
      {
        field: 'instanceType',
        value: kind,
      },
    );
  }
  if (kind === 'ccn') {
    const ccn = findEntity(topology, 'ccn', input.instanceId);
    if (ccn.cenId !== null) throw ccnAlreadyAttached(topology, ccn);
    const next = { ...copy(ccn), cenId: cen.id };
    assertCcnBlocksFree(previewChanges(topology, [put('ccn', next)]), ccn.id);
    return updated('cen.attach', 'ccn', ccn, next);
  }
  const vpc = findEntity(topology, 'vpc', input.instanceId);
  if (vpc.cenId !== null) {
    const current = topology.cens.get(vpc.cenId);
    throw new SagError(
      'ALREADY_BOUND',
      `${label('vpc', vpc)} is already attached to ${current ? label('cen', current) : `CEN ${vpc.cenId}`}; a VPC attaches to one CEN, detach it first`,
      { vpcId: vpc.id, cenId: vpc.cenId },
    );
  }
  const next = { ...copy(vpc), cenId: cen.id };
  assertVpcBlocksFree(previewChanges(topology, [put('vpc', next)]), vpc.id);
  return updated('cen.attach', 'vpc', vpc, next);
}

export function detachFromCen(
  topology: Topology,
  _ctx: OperationContext,
  cenId: string,
  instanceId: string,
): Changeset {
  const cen = findEntity(topology, 'cen', cenId);
  const ccn = topology.ccns.get(instanceId);
  const vpc = topology.vpcs.get(instanceId);
  if (ccn?.cenId === cen.id) return updated('cen.detach', 'ccn', ccn, { ...copy(ccn), cenId: null });
  if (vpc?.cenId === cen.id) return updated('cen.detach', 'vpc', vpc, { ...copy(vpc), cenId: null });
  const what = ccn ? KIND_WORDS.ccn : vpc ? KIND_WORDS.vpc : 'instance';
  throw new SagError('NOT_FOUND', `${what} ${instanceId} is not attached to ${label('cen', cen)}`, {
    cenId: cen.id,
    instanceId,
  });
}

function validatePackage(input: BandwidthPackageInput, field: string): BandwidthPackage {
  if (!Array.isArray(input.areas) || input.areas.length !== 2) {
    throw new SagError('INVALID_ARGUMENT', `${field}.areas: a bandwidth package connects exactly two areas`, {
      field: `${field}.areas`,
    });
  }
  const [a, b] = input.areas.map((area, i) => validateKnownArea(area, `${field}.areas[${i}]`));
  if (a === b) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `${field}.areas: ${a} twice; a package connects two different areas`,
      {
        field: `${field}.areas`,
      },
    );
  }
  const mbps = input.bandwidthMbps;
  if (!Number.isInteger(mbps) || mbps < 1 || mbps > MAX_PACKAGE_MBPS) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `${field}.bandwidthMbps: ${String(mbps)} is not a whole number of Mbps from 1 to ${MAX_PACKAGE_MBPS}`,
      { field: `${field}.bandwidthMbps`, value: mbps },
    );
  }
  return { areas: a < b ? [a, b] : [b, a], bandwidthMbps: mbps };
}

/** Replaces the CEN's bandwidth packages; each pair of areas appears at most once. */
export function setBandwidthPackages(
  topology: Topology,
  _ctx: OperationContext,
  cenId: string,
  packages: BandwidthPackageInput[],
): Changeset {
  const cen = findEntity(topology, 'cen', cenId);
  if (!Array.isArray(packages)) {
    throw new SagError(
      'INVALID_ARGUMENT',
      'bandwidth packages: expected a list of {areas, bandwidthMbps}',
      {},
    );
  }
  const seen = new Set<string>();
  const bandwidthPackages = packages.map((input, i) => {
    const pkg = validatePackage(input, `[${i}]`);
    const pair = pkg.areas.join(' <-> ');
    if (seen.has(pair)) {
      throw new SagError(
        'INVALID_ARGUMENT',
        `[${i}].areas: ${pair} is listed twice; give each pair of areas once`,
        {
          field: `[${i}].areas`,
        },
      );
    }
    seen.add(pair);
    return pkg;
  });
  return updated('cen.bandwidthPackages.set', 'cen', cen, { ...copy(cen), bandwidthPackages });
}
