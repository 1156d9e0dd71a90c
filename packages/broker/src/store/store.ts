import type { Changeset, Topology } from '../domain/types.js';

/**
 * The broker's durable state. The SQLite implementation lives in sqlite.ts; a PostgreSQL one can
 * fill the same interface. Every method is synchronous and every commit is one transaction: when
 * it returns, the change is on disk.
 */
export interface Store {
  /** The whole topology, read once at start-up; the broker serves reads from memory after that. */
  loadTopology(): Topology;
  /** The latest compiled config of every gateway that has one. */
  loadConfigs(): Map<string, CompiledConfigRecord>;
  /**
   * Writes one mutation atomically: its entity changes, the compiled configs it changed, and its
   * audit event. Returns the stored event. Changes apply in order, and a device serial number
   * belongs to at most one gateway at every step: a mutation that moves one must release it first,
   * else it fails with SagError ALREADY_BOUND and nothing of it is written.
   */
  commit(mutation: Mutation): StoredEvent;
  /**
   * Replaces compiled configs outside any mutation, in one transaction: used at start-up when the
   * broker's own settings (say, an access point's address) change what gateways must receive.
   */
  putConfigs(records: CompiledConfigRecord[]): void;
  /** Appends events that change no entity (device online, config applied, ...). */
  appendEvents(events: NewEvent[]): StoredEvent[];
  listEvents(query: EventQuery): Page<StoredEvent>;
  /** Runtime state reported by a device, kept so status survives a broker restart. */
  loadDeviceStates(): Map<string, DeviceStateRecord>;
  /** Writes the latest state of several gateways in one transaction. */
  putDeviceStates(states: DeviceStateRecord[]): void;
  /** Copies the database to `path` while it stays writable (SQLite online backup). */
  backup(path: string): Promise<void>;
  close(): void;
}

export interface Mutation {
  changeset: Changeset;
  actor: string;
  at: Date;
  /** Compiled configs whose content changed; replaced whole. */
  configs: CompiledConfigRecord[];
  /** Gateways whose compiled config no longer exists (gateway deleted). */
  removedConfigs: string[];
}

export interface CompiledConfigRecord {
  gatewayId: string;
  revision: number;
  hash: string;
  /** The compiled config as plain JSON (see compile/gatewayConfig.ts). */
  config: unknown;
  compiledAt: string;
}

export interface DeviceStateRecord {
  gatewayId: string;
  serialNumber: string;
  presence: 'online' | 'offline';
  lastSeenAt: string | null;
  appliedRevision: number | null;
  appliedHash: string | null;
  sync: 'in-sync' | 'pending' | 'failed';
  syncError: string | null;
  /** The desired revision the device rejected or rolled back (syncError says why); absent when none. */
  failedRevision?: number | null;
  /** The WireGuard public key the device reported in its hello (standard base64); absent before. */
  tunnelPublicKey?: string | null;
  /** As last reported by the device: tunnels, ports, agent version. */
  report: unknown;
}

export interface NewEvent {
  at: Date;
  /** `audit` for API mutations, `device` for what devices report or do. */
  category: 'audit' | 'device';
  /** e.g. `gateway.create`, `device.online`, `tunnel.failover`. */
  action: string;
  actor: string;
  resourceType: string;
  resourceId: string;
  before?: unknown;
  after?: unknown;
  details?: unknown;
}

export interface StoredEvent extends Omit<NewEvent, 'at'> {
  /** Monotonic; also the pagination cursor. */
  id: number;
  at: string;
}

export interface EventQuery {
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  resourceId?: string;
  category?: 'audit' | 'device';
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
