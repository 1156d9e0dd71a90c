import { SagError } from '../errors.js';
import { decodeJson, encodeJson } from './json.js';
import type { CompiledConfigRecord, DeviceStateRecord } from './store.js';

/** Rows of `gateway_configs` and `device_states`, the same for both stores. */
export interface ConfigRow {
  gateway_id: string;
  revision: number;
  hash: string;
  config: string;
  compiled_at: string;
}

export interface DeviceStateRow {
  gateway_id: string;
  serial_number: string;
  data: string;
}

export function toConfigRow(record: CompiledConfigRecord): ConfigRow {
  const config = encodeJson(record.config);
  if (config === null) {
    throw new SagError('INTERNAL', `the compiled config of gateway ${record.gatewayId} is missing`, {
      gatewayId: record.gatewayId,
    });
  }
  return {
    gateway_id: record.gatewayId,
    revision: record.revision,
    hash: record.hash,
    config,
    compiled_at: record.compiledAt,
  };
}

export function fromConfigRow(row: ConfigRow): CompiledConfigRecord {
  return {
    gatewayId: row.gateway_id,
    revision: row.revision,
    hash: row.hash,
    config: decodeJson(row.config),
    compiledAt: row.compiled_at,
  };
}

export function toDeviceStateRow(state: DeviceStateRecord): DeviceStateRow {
  return {
    gateway_id: state.gatewayId,
    serial_number: state.serialNumber,
    data: encodeJson(state) as string,
  };
}

export function fromDeviceStateRow(row: DeviceStateRow): DeviceStateRecord {
  return decodeJson(row.data) as DeviceStateRecord;
}
