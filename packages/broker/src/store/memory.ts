import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { Change, EntityKind, Gateway, Topology } from '../domain/types.js';
import { ENTITY_KINDS, emptyTopology } from '../domain/types.js';
import { ENTITY_TABLES, serialNumberTaken, toEntityRow } from './entities.js';
import { auditEvent, type EventRow, eventPage, fromEventRow, readEventQuery, toEventRow } from './events.js';
import { decodeJson, encodeJson } from './json.js';
import { migrate } from './migrations.js';
import {
  type ConfigRow,
  type DeviceStateRow,
  fromConfigRow,
  fromDeviceStateRow,
  toConfigRow,
  toDeviceStateRow,
} from './records.js';
import type {
  CompiledConfigRecord,
  DeviceStateRecord,
  EventQuery,
  Mutation,
  NewEvent,
  Page,
  Store,
  StoredEvent,
} from './store.js';

/**
 * A Store held in memory, for TESTS of the code built on the store (control plane, API) so they
 * need no files. The broker itself always runs on sqlite.ts. It keeps the same rows SQLite would,
 * through the same JSON codec, and has the same semantics: creation order, the one-gateway-per-
 * serial-number rule checked at each write, all-or-nothing commits, event ids and pagination.
 * The shared contract suite (contract.ts) runs against both to keep it that way.
 */
export function createMemoryStore(): Store {
  return new MemoryStore();
}

/** What a commit builds before anything becomes visible; swapped in whole when it succeeds. */
interface Rows {
  entities: Record<EntityKind, Map<string, string>>;
  /** serial number → gateway id, the in-memory twin of the unique index. */
  serials: Map<string, string>;
  configs: Map<string, ConfigRow>;
}

class MemoryStore implements Store {
  private rows: Rows = {
    entities: Object.fromEntries(ENTITY_KINDS.map((kind) => [kind, new Map()])) as Rows['entities'],
    serials: new Map(),
    configs: new Map(),
  };
  private readonly deviceStates = new Map<string, DeviceStateRow>();
  private readonly events: EventRow[] = [];
  private lastEventId = 0;
  private closed = false;

  loadTopology(): Topology {
    this.assertOpen();
    const topology = emptyTopology();
    for (const kind of ENTITY_KINDS) {
      const collection = topology[ENTITY_TABLES[kind].collection] as Map<string, unknown>;
      for (const [id, data] of this.rows.entities[kind]) collection.set(id, decodeJson(data));
    }
    return topology;
  }

  loadConfigs(): Map<string, CompiledConfigRecord> {
    this.assertOpen();
    return new Map(sortedByGateway(this.rows.configs).map((row) => [row.gateway_id, fromConfigRow(row)]));
  }

  commit(mutation: Mutation): StoredEvent {
    this.assertOpen();
    const staged = copyRows(this.rows);
    for (const change of mutation.changeset.changes) writeChange(staged, change);
    for (const record of mutation.configs) staged.configs.set(record.gatewayId, toConfigRow(record));
    for (const gatewayId of mutation.removedConfigs) staged.configs.delete(gatewayId);
    const [event] = this.stageEvents([auditEvent(mutation)]);
    this.rows = staged;
    return this.appendStaged([event])[0];
  }

  putConfigs(records: CompiledConfigRecord[]): void {
    this.assertOpen();
    for (const record of records) this.rows.configs.set(record.gatewayId, toConfigRow(record));
  }

  appendEvents(events: NewEvent[]): StoredEvent[] {
    this.assertOpen();
    return this.appendStaged(this.stageEvents(events));
  }

  listEvents(query: EventQuery): Page<StoredEvent> {
    this.assertOpen();
    const { limit, beforeId } = readEventQuery(query);
    const found: StoredEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && found.length <= limit; i--) {
      const row = this.events[i];
      if (row.id >= beforeId) continue;
      if (query.resourceId !== undefined && row.resource_id !== query.resourceId) continue;
      if (query.category !== undefined && row.category !== query.category) continue;
      found.push(fromEventRow(row));
    }
    return eventPage(found, limit);
  }

  loadDeviceStates(): Map<string, DeviceStateRecord> {
    this.assertOpen();
    return new Map(
      sortedByGateway(this.deviceStates).map((row) => [row.gateway_id, fromDeviceStateRow(row)]),
    );
  }

  putDeviceStates(states: DeviceStateRecord[]): void {
    this.assertOpen();
    for (const state of states) this.deviceStates.set(state.gatewayId, toDeviceStateRow(state));
  }

  /**
   * Writes the state as a SQLite database that openSqliteStore opens, replacing any file at
   * `path` as SQLite's online backup does.
   */
  async backup(path: string): Promise<void> {
    this.assertOpen();
    await rm(path, { force: true });
    const db = new Database(path);
    try {
      migrate(db);
      db.transaction(() => this.copyInto(db))();
    } finally {
      db.close();
    }
  }

  close(): void {
    this.closed = true;
  }

  private copyInto(db: Database.Database): void {
    for (const kind of ENTITY_KINDS) {
      const { table, columns } = ENTITY_TABLES[kind];
      const names = ['id', 'seq', 'data', 'created_at', ...Object.keys(columns)];
      const put = db.prepare(
        `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`,
      );
      let seq = 0;
      for (const data of this.rows.entities[kind].values()) {
        put.run({ ...toEntityRow(kind, decodeJson(data) as never), seq: ++seq });
      }
    }
    const putConfig = db.prepare(
      'INSERT INTO gateway_configs VALUES (@gateway_id, @revision, @hash, @config, @compiled_at)',
    );
    for (const row of this.rows.configs.values()) putConfig.run(row);
    const putState = db.prepare('INSERT INTO device_states VALUES (@gateway_id, @serial_number, @data)');
    for (const row of this.deviceStates.values()) putState.run(row);
    const putEvent = db.prepare(
      `INSERT INTO events (id, at, category, action, actor, resource_type, resource_id, "before", "after", details)
       VALUES (@id, @at, @category, @action, @actor, @resource_type, @resource_id, @before, @after, @details)`,
    );
    for (const row of this.events) putEvent.run(row);
  }

  /** Encodes events and numbers them without making them visible yet. */
  private stageEvents(events: NewEvent[]): EventRow[] {
    return events.map((event, index) => ({ ...toEventRow(event), id: this.lastEventId + index + 1 }));
  }

  private appendStaged(rows: EventRow[]): StoredEvent[] {
    this.events.push(...rows);
    if (rows.length > 0) this.lastEventId = rows[rows.length - 1].id;
    return rows.map((row) => fromEventRow(row));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the in-memory store is closed');
  }
}

function copyRows(rows: Rows): Rows {
  const entities = {} as Rows['entities'];
  for (const kind of ENTITY_KINDS) entities[kind] = new Map(rows.entities[kind]);
  return { entities, serials: new Map(rows.serials), configs: new Map(rows.configs) };
}

function writeChange(rows: Rows, change: Change): void {
  const table = rows.entities[change.kind];
  if (change.op === 'delete') {
    table.delete(change.id);
    if (change.kind === 'gateway') releaseSerial(rows.serials, change.id);
    return;
  }
  const data = encodeJson(change.value) as string;
  if (change.kind === 'gateway') bindSerial(rows.serials, change.value);
  // Like the SQLite upsert, an update keeps the entity's place in creation order.
  table.set(change.value.id, data);
}

function bindSerial(serials: Map<string, string>, gateway: Gateway): void {
  const holder = gateway.serialNumber === null ? undefined : serials.get(gateway.serialNumber);
  if (holder !== undefined && holder !== gateway.id) throw serialNumberTaken(gateway, holder);
  releaseSerial(serials, gateway.id);
  if (gateway.serialNumber !== null) serials.set(gateway.serialNumber, gateway.id);
}

function releaseSerial(serials: Map<string, string>, gatewayId: string): void {
  for (const [serial, holder] of serials) if (holder === gatewayId) serials.delete(serial);
}

function sortedByGateway<T extends { gateway_id: string }>(rows: Map<string, T>): T[] {
  return [...rows.values()].sort((a, b) =>
    a.gateway_id < b.gateway_id ? -1 : a.gateway_id > b.gateway_id ? 1 : 0,
  );
}
