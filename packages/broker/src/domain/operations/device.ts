import { isValidSerialNumber } from '@opensag/proto';
import { SagError } from '../../errors.js';
import type { Changeset, Gateway, OperationContext, Topology } from '../types.js';
import { copy, updated } from './changeset.js';
import { findEntity, label } from './lookup.js';

export interface BindDeviceInput {
  serialNumber: string;
  publicKey: string;
}

/**
 * The serial number is the device's MQTT client id, username and topic level, so it follows the
 * protocol's own rule (no wildcards, separators, or names that collide with object internals).
 */
export function validateSerialNumber(serial: string, field = 'serialNumber'): string {
  if (!isValidSerialNumber(serial)) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `${field}: "${String(serial)}" is not a serial number; use 2-64 letters, digits, "_" or "-", starting with a letter or digit`,
      { field, value: serial },
    );
  }
  return serial;
}

/** Standard base64 (with padding) of exactly 32 bytes: a raw Ed25519 public key. */
export function validatePublicKey(key: string, field = 'publicKey'): string {
  const ok =
    typeof key === 'string' &&
    /^[A-Za-z0-9+/]{43}=$/.test(key) &&
    Buffer.from(key, 'base64').length === 32 &&
    Buffer.from(key, 'base64').toString('base64') === key;
  if (!ok) {
    throw new SagError(
      'INVALID_ARGUMENT',
      `${field}: expected the standard base64 of a raw 32-byte Ed25519 key (44 characters ending in "="), as printed by sag-agent init`,
      { field },
    );
  }
  return key;
}

/** Single-device mode: one device per gateway, one gateway per serial number. */
export function bindDevice(
  topology: Topology,
  _ctx: OperationContext,
  id: string,
  input: BindDeviceInput,
): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  const serialNumber = validateSerialNumber(input.serialNumber);
  const publicKey = validatePublicKey(input.publicKey);
  if (gateway.serialNumber !== null) {
    throw new SagError(
      'ALREADY_BOUND',
      `${label('gateway', gateway)} already has device ${gateway.serialNumber}; unbind it first (DELETE /v1/gateways/${gateway.id}/device)`,
      { gatewayId: gateway.id, serialNumber: gateway.serialNumber },
    );
  }
  const holder = [...topology.gateways.values()].find((g) => g.serialNumber === serialNumber);
  if (holder) {
    throw new SagError(
      'ALREADY_BOUND',
      `device ${serialNumber} is already bound to ${label('gateway', holder)}; unbind it there first`,
      { serialNumber, gatewayId: holder.id },
    );
  }
  const next: Gateway = {
    ...copy(gateway),
    serialNumber,
    publicKey,
    lifecycle: gateway.lifecycle === 'ordered' ? 'shipped' : gateway.lifecycle,
  };
  return updated('gateway.device.bind', 'gateway', gateway, next);
}

/** An active gateway stays active without a device (its subscription runs on); a shipped one goes back to ordered. */
export function unbindDevice(topology: Topology, _ctx: OperationContext, id: string): Changeset {
  const gateway = findEntity(topology, 'gateway', id);
  if (gateway.serialNumber === null) {
    throw new SagError('INVALID_STATE', `${label('gateway', gateway)} has no device bound`, {
      gatewayId: gateway.id,
    });
  }
  const next: Gateway = {
    ...copy(gateway),
    serialNumber: null,
    publicKey: null,
    lifecycle: gateway.lifecycle === 'shipped' ? 'ordered' : gateway.lifecycle,
  };
  return updated('gateway.device.unbind', 'gateway', gateway, next);
}
