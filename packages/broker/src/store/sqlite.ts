import type { Database as Connection, Statement } from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { Change, EntityKind, Gateway, Topology } from '../domain/types.js';
import { ENTITY_KINDS, emptyTopology } from '../domain/types.js';
import { isSagError, SagError } from '../errors.js';
import { ENTITY_TABLES, serialNumberTaken, toEntityRow } from './entities.js';
import { auditEvent, type EventRow, eventPage, fromEventRow, readEventQuery, toEventRow } from './events.js';
import { decodeJson } from './json.js';
import { migrate, schemaVersionOf } from './migrations.js';
import {
  type ConfigRow,
  type DeviceStateRow,
  fromConfigRow,
  fromDeviceStateRow,
  toConfigRow,
  toDeviceStateRow,
} from './records.js';
import { WalGroupCommit } from './sqliteGroupCommit.js';
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

export interface SqliteStoreOptions {
  /** How long a write waits for another connection's lock before failing; default 5000. */
  busyTimeoutMs?: number;
  /**
   * Group commit: a commit returns once SQLite has handed it to the OS (it survives the process
   * dying), and one fsync of the write-ahead log, off the event loop, then puts every commit made
   * meanwhile on disk. Whoever answers for a write waits for `whenDurable()` first. Off by
   * default: each commit is synced before it returns.
   */
  groupCommit?: boolean;
}

/** The connection settings in force, for start-up logs and health checks. */
export interface SqliteStoreInfo {
  path: string;
  schemaVersion: number;
  journalMode: string;
  /** 0 off, 1 normal, 2 full, 3 extra. */
  synchronous: number;
  /** Commits are synced to disk together by `whenDurable()` (with synchronous=NORMAL). */
  groupCommit: boolean;
  foreignKeys: boolean;
  busyTimeoutMs: number;
}

export interface SqliteStore extends Store {
  readonly path: string;
  info(): SqliteStoreInfo;
  /**
   * Settles when every commit made so far is on disk, null when that is already so (always, without
   * group commit). Rejects with an INTERNAL SagError when the disk refused to sync.
   */
  whenDurable(): Promise<void> | null;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the broker's database: WAL so reads never wait on the writer, and
 * `synchronous=FULL` so a commit is on disk, not only in the OS cache, when it returns — or, with
 * `groupCommit`, when `whenDurable()` settles.
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  // An in-memory database has no log to sync.
  const groupCommit = (options.groupCommit ?? false) && path !== ':memory:';
  let db: Connection | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    configure(db, path, groupCommit);
    migrate(db);
    return new SqliteStoreImpl(db, path, groupCommit ? new WalGroupCommit(`${path}-wal`) : null);
  } catch (err) {
    db?.close();
    if (isSagError(err)) throw err;
    throw new SagError('INTERNAL', `cannot open the database ${path}: ${(err as Error).message}`, { path });
  }
}

function configure(db: Connection, path: string, groupCommit: boolean): void {
  const journalMode = db.pragma('journal_mode = WAL', { simple: true });
  if (journalMode !== 'wal' && path !== ':memory:') {
    throw new Error(`the file system refused write-ahead logging (journal mode is ${String(journalMode)})`);
  }
  // NORMAL in WAL mode syncs the log only at checkpoints (and the database after them): the
  // group commit's own fsync of the log stands in for FULL's per-commit one.
  db.pragma(groupCommit ? 'synchronous = NORMAL' : 'synchronous = FULL');
  db.pragma('foreign_keys = ON');
}

interface EntityStatements {
  put: Statement;
  remove: Statement;
  all: Statement<[], { id: string; data: string }>;
}

type EventFilter = 'all' | 'resource' | 'category' | 'resourceAndCategory';

/** Every statement the store runs, prepared once at open. */
function prepareStatements(db: Connection) {
  const entities = {} as Record<EntityKind, EntityStatements>;
  for (const kind of ENTITY_KINDS) entities[kind] = prepareEntityStatements(db, kind);
  const eventColumns =
    'id, at, category, action, actor, resource_type, resource_id, "before", "after", details';
  const listEvents = (where: string) =>
    db.prepare<Record<string, unknown>, EventRow>(
      `SELECT ${eventColumns} FROM events WHERE id < @beforeId ${where} ORDER BY id DESC LIMIT @limit`,
    );
  return {
    entities,
    gatewayBySerial: db.prepare<[string], { id: string }>('SELECT id FROM gateways WHERE serial_number = ?'),
    putConfig: db.prepare<ConfigRow>(
      `INSERT INTO gateway_configs (gateway_id, revision, hash, config, compiled_at)
       VALUES (@gateway_id, @revision, @hash, @config, @compiled_at)
       ON CONFLICT (gateway_id) DO UPDATE SET revision = excluded.revision, hash = excluded.hash,
         config = excluded.config, compiled_at = excluded.compiled_at`,
    ),
    removeConfig: db.prepare<[string]>('DELETE FROM gateway_configs WHERE gateway_id = ?'),
    allConfigs: db.prepare<[], ConfigRow>('SELECT * FROM gateway_configs ORDER BY gateway_id'),
    putDeviceState: db.prepare<DeviceStateRow>(
      `INSERT INTO device_states (gateway_id, serial_number, data) VALUES (@gateway_id, @serial_number, @data)
       ON CONFLICT (gateway_id) DO UPDATE SET serial_number = excluded.serial_number, data = excluded.data`,
    ),
    allDeviceStates: db.prepare<[], DeviceStateRow>('SELECT * FROM device_states ORDER BY gateway_id'),
    insertEvent: db.prepare<Omit<EventRow, 'id'>>(
      `INSERT INTO events (at, category, action, actor, resource_type, resource_id, "before", "after", details)
       VALUES (@at, @category, @action, @actor, @resource_type, @resource_id, @before, @after, @details)`,
    ),
    listEvents: {
      all: listEvents(''),
      resource: listEvents('AND resource_id = @resourceId'),
      category: listEvents('AND category = @category'),
      resourceAndCategory: listEvents('AND resource_id = @resourceId AND category = @category'),
    } satisfies Record<EventFilter, Statement>,
  };
}

function prepareEntityStatements(db: Connection, kind: EntityKind): EntityStatements {
  const { table, columns } = ENTITY_TABLES[kind];
  const indexed = Object.keys(columns);
  const names = ['id', 'seq', 'data', 'created_at', ...indexed].join(', ');
  const values = ['@id', `(SELECT coalesce(max(seq), 0) + 1 FROM ${table})`, '@data', '@created_at']
    .concat(indexed.map((column) => `@${column}`))
    .join(', ');
  const updates = ['data', 'created_at', ...indexed]
    .map((column) => `${column} = excluded.${column}`)
    .join(', ');
  return {
    // An update keeps the row's seq, so an entity keeps its place in creation order.
    put: db.prepare(
      `INSERT INTO ${table} (${names}) VALUES (${values}) ON CONFLICT (id) DO UPDATE SET ${updates}`,
    ),
    remove: db.prepare(`DELETE FROM ${table} WHERE id = ?`),
    all: db.prepare(`SELECT id, data FROM ${table} ORDER BY seq, id`),
  };
}

class SqliteStoreImpl implements SqliteStore {
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly commitTransaction: (mutation: Mutation) => StoredEvent;
  private readonly appendTransaction: (events: NewEvent[]) => StoredEvent[];
  private readonly putDeviceStatesTransaction: (states: DeviceStateRecord[]) => void;
  private readonly putConfigsTransaction: (records: CompiledConfigRecord[]) => void;

  constructor(
    private readonly db: Connection,
    readonly path: string,
    private readonly group: WalGroupCommit | null,
  ) {
    this.statements = prepareStatements(db);
    this.commitTransaction = db.transaction((mutation: Mutation) => {
      for (const change of mutation.changeset.changes) this.writeChange(change);
      for (const record of mutation.configs) this.statements.putConfig.run(toConfigRow(record));
      for (const gatewayId of mutation.removedConfigs) this.statements.removeConfig.run(gatewayId);
      return this.insertEvent(auditEvent(mutation));
    });
    this.appendTransaction = db.transaction((events: NewEvent[]) => events.map((e) => this.insertEvent(e)));
    this.putConfigsTransaction = db.transaction((records: CompiledConfigRecord[]) => {
      for (const record of records) this.statements.putConfig.run(toConfigRow(record));
    });
    this.putDeviceStatesTransaction = db.transaction((states: DeviceStateRecord[]) => {
      for (const state of states) this.statements.putDeviceState.run(deviceStateRow(state));
    });
  }

  loadTopology(): Topology {
    const topology = emptyTopology();
    for (const kind of ENTITY_KINDS) {
      const collection = topology[ENTITY_TABLES[kind].collection] as Map<string, unknown>;
      for (const row of this.statements.entities[kind].all.all())
        collection.set(row.id, decodeJson(row.data));
    }
    return topology;
  }

  loadConfigs(): Map<string, CompiledConfigRecord> {
    return new Map(this.statements.allConfigs.all().map((row) => [row.gateway_id, fromConfigRow(row)]));
  }

  commit(mutation: Mutation): StoredEvent {
    const event = this.commitTransaction(mutation);
    this.wrote();
    return event;
  }

  appendEvents(events: NewEvent[]): StoredEvent[] {
    const stored = this.appendTransaction(events);
    this.wrote();
    return stored;
  }

  putConfigs(records: CompiledConfigRecord[]): void {
    this.putConfigsTransaction(records);
    this.wrote();
  }

  whenDurable(): Promise<void> | null {
    return this.group?.whenDurable() ?? null;
  }

  listEvents(query: EventQuery): Page<StoredEvent> {
    const { limit, beforeId } = readEventQuery(query);
    const params: Record<string, unknown> = { beforeId, limit: limit + 1 };
    let filter: EventFilter = 'all';
    if (query.resourceId !== undefined) {
      params.resourceId = query.resourceId;
      filter = 'resource';
    }
    if (query.category !== undefined) {
      params.category = query.category;
      filter = filter === 'resource' ? 'resourceAndCategory' : 'category';
    }
    const rows = this.statements.listEvents[filter].all(params);
    return eventPage(
      rows.map((row) => fromEventRow(row)),
      limit,
    );
  }

  loadDeviceStates(): Map<string, DeviceStateRecord> {
    return new Map(
      this.statements.allDeviceStates.all().map((row) => [row.gateway_id, fromDeviceStateRow(row)]),
    );
  }

  putDeviceStates(states: DeviceStateRecord[]): void {
    this.putDeviceStatesTransaction(states);
    this.wrote();
  }

  async backup(path: string): Promise<void> {
    await this.db.backup(path);
  }

  info(): SqliteStoreInfo {
    return {
      path: this.path,
      schemaVersion: schemaVersionOf(this.db),
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.db.pragma('synchronous', { simple: true }) as number,
      groupCommit: this.group !== null,
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) === 1,
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
    };
  }

  close(): void {
    this.group?.close();
    this.db.close();
  }

  private wrote(): void {
    this.group?.wrote();
  }

  private writeChange(change: Change): void {
    const statements = this.statements.entities[change.kind];
    if (change.op === 'delete') {
      statements.remove.run(change.id);
      return;
    }
    try {
      statements.put.run(toEntityRow(change.kind, change.value));
    } catch (err) {
      if (change.kind === 'gateway' && isSerialNumberConflict(err)) throw this.serialConflict(change.value);
      throw err;
    }
  }

  private serialConflict(gateway: Gateway): SagError {
    const holder = this.statements.gatewayBySerial.get(gateway.serialNumber as string);
    return serialNumberTaken(gateway, holder?.id ?? 'unknown');
  }

  private insertEvent(event: NewEvent): StoredEvent {
    const row = toEventRow(event);
    const { lastInsertRowid } = this.statements.insertEvent.run(row);
    return readBack({ ...row, id: Number(lastInsertRowid) });
  }
}

/**
 * The event just written, as listEvents will return it. JSON.parse with the prototype-key reviver
 * costs several times a plain parse, and the reviver can only act on text that names such a key.
 */
function readBack(row: EventRow): StoredEvent {
  return fromEventRow(row, (text) =>
    text.includes('__proto__') || text.includes('constructor') ? decodeJson(text) : JSON.parse(text),
  );
}

/** JSON of device reports, by object: an ack or a presence change keeps the same report. */
const reportText = new WeakMap<object, string>();

/**
 * A device_states row; the report (ports, tunnels, counters: most of the text) is serialised once
 * per report object rather than on every ack and presence change that keeps it.
 */
function deviceStateRow(state: DeviceStateRecord): DeviceStateRow {
  const { report } = state;
  if (typeof report !== 'object' || report === null) return toDeviceStateRow(state);
  let text = reportText.get(report);
  if (text === undefined) {
    text = JSON.stringify(report);
    reportText.set(report, text);
  }
  const rest = JSON.stringify({ ...state, report: undefined });
  return {
    gateway_id: state.gatewayId,
    serial_number: state.serialNumber,
    data: `${rest.slice(0, -1)},"report":${text}}`,
  };
}

function isSerialNumberConflict(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    err.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    err.message.includes('gateways.serial_number')
  );
}
