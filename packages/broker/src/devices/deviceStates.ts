import type { Logger } from 'pino';
import type { CompiledConfigRecord, DeviceStateRecord, NewEvent, Store } from '../store/store.js';
import { DeviceStateWriter } from './stateWriter.js';

export type SyncState = 'in-sync' | 'pending' | 'failed';

/** What the device link may change in a device's runtime state. */
export type DeviceStatePatch = Partial<Omit<DeviceStateRecord, 'gatewayId' | 'serialNumber' | 'sync'>>;

/** A device event as the device link reports it; time, actor and gateway are stamped here. */
export interface DeviceEventInput {
  action: string;
  details?: Record<string, unknown>;
}

/**
 * What devices report about themselves (presence, applied revision, tunnels, ports), exact in
 * memory at once and written to the store in batches by a DeviceStateWriter.
 */
export class DeviceStates {
  private readonly states: Map<string, DeviceStateRecord>;
  private readonly writer: DeviceStateWriter;

  constructor(
    store: Store,
    log: Logger,
    private readonly desired: (gatewayId: string) => CompiledConfigRecord | undefined,
    private readonly now: () => Date,
    writeDelayMs?: number,
  ) {
    this.states = store.loadDeviceStates();
    // No device is connected to a broker that has just started, whatever was stored before a crash.
    for (const state of this.states.values()) state.presence = 'offline';
    this.writer = new DeviceStateWriter(store, log, writeDelayMs);
  }

  get(gatewayId: string): DeviceStateRecord | undefined {
    return this.states.get(gatewayId);
  }

  record(
    gatewayId: string,
    serialNumber: string,
    patch: DeviceStatePatch,
    events: DeviceEventInput[],
  ): DeviceStateRecord {
    const previous = this.states.get(gatewayId) ?? emptyDeviceState(gatewayId, serialNumber);
    const next: DeviceStateRecord = { ...previous, ...patch, gatewayId, serialNumber };
    next.sync = syncOf(this.desired(gatewayId), next);
    this.states.set(gatewayId, next);
    this.writer.put(next);
    this.recordEvents(gatewayId, serialNumber, events);
    return next;
  }

  recordEvents(gatewayId: string, serialNumber: string, events: DeviceEventInput[]): void {
    if (events.length === 0) return;
    const at = this.now();
    const stamped: NewEvent[] = events.map((e) => ({
      at,
      category: 'device',
      action: e.action,
      actor: `device:${serialNumber}`,
      resourceType: resourceTypeOf(gatewayId),
      resourceId: gatewayId,
      details: { serialNumber, ...e.details },
    }));
    this.writer.append(stamped);
  }

  /** The gateway is gone: its device state goes with it. */
  forget(gatewayId: string): void {
    this.states.delete(gatewayId);
    this.writer.forget(gatewayId);
  }

  /** The gateway's sync state against its desired config now. */
  sync(gatewayId: string): SyncState {
    return syncOf(this.desired(gatewayId), this.states.get(gatewayId));
  }

  flush(): void {
    this.writer.flush();
  }
}

/** Devices are gateways' (ids `sag-…`) or edge agents', keyed by their access point's id. */
function resourceTypeOf(deviceId: string): 'gateway' | 'access-point' {
  return deviceId.startsWith('sag-') ? 'gateway' : 'access-point';
}

function emptyDeviceState(gatewayId: string, serialNumber: string): DeviceStateRecord {
  return {
    gatewayId,
    serialNumber,
    presence: 'offline',
    lastSeenAt: null,
    appliedRevision: null,
    appliedHash: null,
    sync: 'pending',
    syncError: null,
    failedRevision: null,
    report: {},
  };
}

/**
 * `failed` only while the device refused the revision that is desired now (a newer revision is
 * pending again); `in-sync` when it applied exactly the desired revision and content.
 */
function syncOf(desired: CompiledConfigRecord | undefined, device: DeviceStateRecord | undefined): SyncState {
  if (!desired) return 'in-sync';
  if (device?.failedRevision === desired.revision) return 'failed';
  const sameContent = device?.appliedHash == null || device.appliedHash === desired.hash;
  return device?.appliedRevision === desired.revision && sameContent ? 'in-sync' : 'pending';
}
