import { SagError } from '../../errors.js';
import { previewChanges } from '../apply.js';
import { parseBlock } from '../cidr.js';
import { assertCcnBlocksFree, assertGatewayBlocksFree } from '../overlap.js';
import { assertLanInsideBlocks, validatePorts } from '../ports.js';
import { assertQuota } from '../quotas.js';
import type { Ccn, Change, Changeset, Gateway, GatewayPorts, OperationContext, Topology } from '../types.js';
import { ccnAlreadyAttached } from './ccn.js';
import { copy, put, updated } from './changeset.js';
import { findEntity, label } from './lookup.js';

export interface SetNetworkInput {
  privateCidrs: string[];
  /** The CCN to bind to; null leaves the gateway in no CCN. */
  ccnId: string | null;
  /** Also attach the CCN to this CEN, in the same change. */
  cenId?: string | null;
}

export interface SetGatewayAclInput {
  aclId: string;
}

function validatePrivateCidrs(ctx: OperationContext, gateway: Gateway, cidrs: string[]): string[] {
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `privateCidrs: ${label('gateway', gateway)} needs at least one private CIDR block, e.g. 172.16.0.0/16`,
      { field: 'privateCidrs' },
    );
  }
  assertQuota(ctx.settings, 'privateCidrsPerGateway', cidrs.length, `private CIDR blocks per gateway`);
  return cidrs.map((cidr, i) => parseBlock(cidr, `privateCidrs[${i}]`).text);
}

/** The CCN the gateway will sit in, and the CCN as it will be if the request also attaches it to a CEN. */
function resolveCcn(
  topology: Topology,
  gateway: Gateway,
  input: SetNetworkInput,
): { ccn: Ccn | null; attach: boolean } {
  const ccnId = input.ccnId ?? null;
  const cenId = input.cenId ?? null;
  if (ccnId === null) {
    if (cenId !== null) {
      throw new SagError(
        'INVALID_ARGUMENT',
        'cenId: a CEN can only be attached through a CCN; give ccnId too',
        {
          field: 'cenId',
        },
      );
    }
    return { ccn: null, attach: false };
  }
  const ccn = findEntity(topology, 'ccn', ccnId);
  if (ccn.area !== gateway.area) {
    throw new SagError(
      'AREA_MISMATCH',
      `${label('gateway', gateway)} is in area ${gateway.area} but ${label('ccn', ccn)} is in ${ccn.area}; bind it to a CCN of its own area`,
      { gatewayId: gateway.id, gatewayArea: gateway.area, ccnId: ccn.id, ccnArea: ccn.area },
    );
  }
  if (cenId === null || ccn.cenId === cenId) return { ccn, attach: false };
  const cen = findEntity(topology, 'cen', cenId);
  if (ccn.cenId !== null) throw ccnAlreadyAttached(topology, ccn);
  return { ccn: { ...copy(ccn), cenId: cen.id }, attach: true };
}

/**
 * Step 4 of the reference scenario as one atomic change: the gateway's private blocks, its CCN
 * binding and optionally the CCN's CEN attachment, all checked together against the result.
 */
export function setNetwork(
  topology: Topology,
  ctx: OperationContext,
  id: string,
  input: SetNetworkInput,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const privateCidrs = validatePrivateCidrs(ctx, gateway, input.privateCidrs);
  const { ccn, attach } = resolveCcn(topology, gateway, input);
  assertLanInsideBlocks(gateway.ports.lan, privateCidrs, 'ports.lan');
  const next: Gateway = { ...copy(gateway), privateCidrs, ccnId: ccn?.id ?? null };
  const before: Change[] = attach && ccn ? [put('ccn', ccn)] : [];
  const result = previewChanges(topology, [...before, put('gateway', next)]);
  assertGatewayBlocksFree(result, gateway.id);
  if (attach && ccn) assertCcnBlocksFree(result, ccn.id);
  return updated('gateway.network.set', 'gateway', gateway, next, before);
}

export function setPorts(
  topology: Topology,
  _ctx: OperationContext,
  id: string,
  input: GatewayPorts,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const ports = validatePorts(input, gateway.privateCidrs);
  return updated('gateway.ports.set', 'gateway', gateway, { ...copy(gateway), ports });
}

/** One ACL per gateway; setting another replaces it. */
export function setGatewayAcl(
  topology: Topology,
  _ctx: OperationContext,
  id: string,
  input: SetGatewayAclInput,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const acl = findEntity(topology, 'acl', input.aclId);
  return updated('gateway.acl.set', 'gateway', gateway, { ...copy(gateway), aclId: acl.id });
}

export function removeGatewayAcl(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  if (gateway.aclId === null) {
    throw new SagError('INVALID_STATE', `${label('gateway', gateway)} has no ACL`, { gatewayId: gateway.id });
  }
  return updated('gateway.acl.remove', 'gateway', gateway, { ...copy(gateway), aclId: null });
}
