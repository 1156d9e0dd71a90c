import { SagError } from '../../errors.js';
import { previewChanges } from '../apply.js';
import { validateEnabledArea } from '../catalogue.js';
import { validateDescription, validateName } from '../names.js';
import { assertGatewayBlocksFree, gatewaysOfCcn } from '../overlap.js';
import { assertQuota } from '../quotas.js';
import type { Ccn, Changeset, Gateway, OperationContext, Topology } from '../types.js';
import { copy, created, deleted, put, updated } from './changeset.js';
import { findEntity, label, listIds } from './lookup.js';

export interface CreateCcnInput {
  name: string;
  area: string;
  description?: string;
}

export interface BindCcnGatewayInput {
  gatewayId: string;
}

export function ccnAlreadyAttached(topology: Topology, ccn: Ccn): SagError {
  const current = ccn.cenId ? topology.cens.get(ccn.cenId) : undefined;
  const where = current ? label('cen', current) : `CEN ${ccn.cenId}`;
  return new SagError(
    'ALREADY_BOUND',
    `${label('ccn', ccn)} is already attached to ${where}; a CCN attaches to one CEN, detach it first`,
    { ccnId: ccn.id, cenId: ccn.cenId },
  );
}

export function createCcn(topology: Topology, ctx: OperationContext, input: CreateCcnInput): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  const area = validateEnabledArea(input.area, ctx.settings);
  assertQuota(ctx.settings, 'ccns', topology.ccns.size + 1, 'CCNs');
  const ccn: Ccn = {
    id: ctx.newId('ccn'),
    name,
    ...(description !== undefined ? { description } : {}),
    area,
    cenId: null,
    createdAt: ctx.now.toISOString(),
  };
  return created('ccn.create', 'ccn', ccn);
}

export function deleteCcn(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const ccn = findEntity(topology, 'ccn', id);
  const members = gatewaysOfCcn(topology, id).map((g) => g.id);
  if (members.length > 0) {
    throw new SagError(
      'IN_USE',
      `${label('ccn', ccn)} still has ${members.length} gateway(s) bound (${listIds(members)}); unbind them first`,
      { ccnId: ccn.id, gatewayIds: members },
    );
  }
  if (ccn.cenId !== null) {
    throw new SagError(
      'IN_USE',
      `${label('ccn', ccn)} is attached to CEN ${ccn.cenId}; detach it first (DELETE /v1/cens/${ccn.cenId}/attachments/${ccn.id})`,
      { ccnId: ccn.id, cenId: ccn.cenId },
    );
  }
  return deleted('ccn.delete', 'ccn', ccn);
}

/** A gateway joins at most one CCN, of its own area, without overlapping anything it then reaches. */
export function bindCcnGateway(
  topology: Topology,
  _ctx: OperationContext,
  ccnId: string,
  input: BindCcnGatewayInput,
): Changeset {
  const ccn = findEntity(topology, 'ccn', ccnId);
  const gateway = findEntity(topology, 'gateway', input.gatewayId);
  if (gateway.ccnId !== null) {
    const current = topology.ccns.get(gateway.ccnId);
    throw new SagError(
      'ALREADY_BOUND',
      `${label('gateway', gateway)} is already bound to ${current ? label('ccn', current) : `CCN ${gateway.ccnId}`}; a gateway joins one CCN, unbind it first`,
      { gatewayId: gateway.id, ccnId: gateway.ccnId },
    );
  }
  if (gateway.area !== ccn.area) {
    throw new SagError(
      'AREA_MISMATCH',
      `${label('gateway', gateway)} is in area ${gateway.area} but ${label('ccn', ccn)} is in ${ccn.area}; bind it to a CCN of its own area`,
      { gatewayId: gateway.id, gatewayArea: gateway.area, ccnId: ccn.id, ccnArea: ccn.area },
    );
  }
  const next: Gateway = { ...copy(gateway), ccnId: ccn.id };
  assertGatewayBlocksFree(previewChanges(topology, [put('gateway', next)]), gateway.id);
  return updated('ccn.gateway.bind', 'gateway', gateway, next);
}

export function unbindCcnGateway(
  topology: Topology,
  _ctx: OperationContext,
  ccnId: string,
  gatewayId: string,
): Changeset {
  const ccn = findEntity(topology, 'ccn', ccnId);
  const gateway = findEntity(topology, 'gateway', gatewayId);
  if (gateway.ccnId !== ccn.id) {
    throw new SagError('NOT_FOUND', `${label('gateway', gateway)} is not bound to ${label('ccn', ccn)}`, {
      ccnId: ccn.id,
      gatewayId: gateway.id,
    });
  }
  return updated('ccn.gateway.unbind', 'gateway', gateway, { ...copy(gateway), ccnId: null });
}
