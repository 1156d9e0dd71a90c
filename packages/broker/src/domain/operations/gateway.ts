import { SagError } from '../../errors.js';
import {
  validateBandwidth,
  validateEnabledArea,
  validateSpec,
  validateSubscriptionMonths,
} from '../catalogue.js';
import { addMonthsUtc, renewedExpiry } from '../lifecycle.js';
import { validateDescription, validateName } from '../names.js';
import { assertQuota } from '../quotas.js';
import type { Changeset, Gateway, OperationContext, Topology } from '../types.js';
import { copy, created, deleted, updated } from './changeset.js';
import { findEntity, label } from './lookup.js';

export interface CreateGatewayInput {
  name: string;
  area: string;
  spec: string;
  bandwidthMbps: number;
  subscriptionMonths: number;
  description?: string;
}

export interface UpdateGatewayInput {
  name?: string;
  description?: string;
  bandwidthMbps?: number;
}

export interface RenewGatewayInput {
  subscriptionMonths: number;
}

/** Step 1 of the reference scenario: buy a gateway. It starts `ordered`, WAN by DHCP, no LAN. */
export function createGateway(
  topology: Topology,
  ctx: OperationContext,
  input: CreateGatewayInput,
): Changeset {
  const name = validateName(input.name, 'name');
  const description = validateDescription(input.description, 'description');
  const area = validateEnabledArea(input.area, ctx.settings);
  const spec = validateSpec(input.spec);
  const bandwidthMbps = validateBandwidth(spec, input.bandwidthMbps);
  const subscriptionMonths = validateSubscriptionMonths(input.subscriptionMonths);
  assertQuota(ctx.settings, 'gateways', topology.gateways.size + 1, 'gateways');
  const gateway: Gateway = {
    id: ctx.newId('sag'),
    name,
    ...(description !== undefined ? { description } : {}),
    area,
    spec,
    bandwidthMbps,
    subscriptionMonths,
    createdAt: ctx.now.toISOString(),
    lifecycle: 'ordered',
    serialNumber: null,
    publicKey: null,
    activatedAt: null,
    expiresAt: null,
    privateCidrs: [],
    ccnId: null,
    aclId: null,
    ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
  };
  return created('gateway.create', 'gateway', gateway);
}

export function updateGateway(
  topology: Topology,
  _ctx: OperationContext,
  id: string,
  input: UpdateGatewayInput,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const next = copy(gateway);
  if (input.name !== undefined) next.name = validateName(input.name, 'name');
  if (input.description !== undefined)
    next.description = validateDescription(input.description, 'description');
  if (input.bandwidthMbps !== undefined)
    next.bandwidthMbps = validateBandwidth(gateway.spec, input.bandwidthMbps);
  return updated('gateway.update', 'gateway', gateway, next);
}

/** A gateway still bound to a CCN is in use: the CCN's routes depend on it. */
export function deleteGateway(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  if (gateway.ccnId !== null) {
    const ccn = topology.ccns.get(gateway.ccnId);
    const ccnText = ccn ? label('ccn', ccn) : `CCN ${gateway.ccnId}`;
    throw new SagError(
      'IN_USE',
      `${label('gateway', gateway)} is bound to ${ccnText}; unbind it first (DELETE /v1/ccns/${gateway.ccnId}/gateways/${gateway.id})`,
      { gatewayId: gateway.id, ccnId: gateway.ccnId },
    );
  }
  return deleted('gateway.delete', 'gateway', gateway);
}

/** Billing and expiry run from activation, which needs the device bound first. */
export function activateGateway(topology: Topology, ctx: OperationContext, id: string): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  if (gateway.lifecycle === 'active') {
    throw new SagError(
      'INVALID_STATE',
      `${label('gateway', gateway)} is already active (expires ${gateway.expiresAt})`,
      {
        lifecycle: gateway.lifecycle,
      },
    );
  }
  if (gateway.lifecycle !== 'shipped' || gateway.serialNumber === null) {
    throw new SagError(
      'INVALID_STATE',
      `${label('gateway', gateway)} has no device; bind a device first (PUT /v1/gateways/${gateway.id}/device)`,
      { lifecycle: gateway.lifecycle },
    );
  }
  const next: Gateway = {
    ...copy(gateway),
    lifecycle: 'active',
    activatedAt: ctx.now.toISOString(),
    expiresAt: addMonthsUtc(ctx.now, gateway.subscriptionMonths).toISOString(),
  };
  return updated('gateway.activate', 'gateway', gateway, next);
}

/** Renewal extends from the current expiry, or from now once expired (which also unlocks). */
export function renewGateway(
  topology: Topology,
  ctx: OperationContext,
  id: string,
  input: RenewGatewayInput,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const months = validateSubscriptionMonths(input.subscriptionMonths);
  if (gateway.lifecycle !== 'active') {
    throw new SagError(
      'INVALID_STATE',
      `${label('gateway', gateway)} is ${gateway.lifecycle}, not active; its subscription starts when it is activated`,
      { lifecycle: gateway.lifecycle },
    );
  }
  const next: Gateway = {
    ...copy(gateway),
    subscriptionMonths: months,
    expiresAt: renewedExpiry(gateway.expiresAt, ctx.now, months).toISOString(),
  };
  return updated('gateway.renew', 'gateway', gateway, next);
}
