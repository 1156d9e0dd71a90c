import type { Database } from 'better-sqlite3';
import { SagError } from '../errors.js';

/**
 * The schema's history. `PRAGMA user_version` holds the number of the last migration applied; a
 * migration, once released, never changes: a new schema change is a new entry at the end.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

const ENTITIES_CONFIGS_EVENTS = `
  -- Entities: the JSON document in data, plus the fields worth an index. seq keeps creation order
  -- (an update keeps its seq) independent of rowids, which VACUUM may renumber.
  CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    serial_number TEXT,
    ccn_id TEXT,
    acl_id TEXT
  );
  CREATE UNIQUE INDEX gateways_serial_number ON gateways (serial_number) WHERE serial_number IS NOT NULL;
  CREATE INDEX gateways_ccn_id ON gateways (ccn_id) WHERE ccn_id IS NOT NULL;
  CREATE INDEX gateways_acl_id ON gateways (acl_id) WHERE acl_id IS NOT NULL;
  CREATE INDEX gateways_seq ON gateways (seq);

  CREATE TABLE ccns (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, cen_id TEXT);
  CREATE INDEX ccns_cen_id ON ccns (cen_id) WHERE cen_id IS NOT NULL;
  CREATE INDEX ccns_seq ON ccns (seq);

  CREATE TABLE cens (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE INDEX cens_seq ON cens (seq);

  CREATE TABLE vpcs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, cen_id TEXT);
  CREATE INDEX vpcs_cen_id ON vpcs (cen_id) WHERE cen_id IS NOT NULL;
  CREATE INDEX vpcs_seq ON vpcs (seq);

  CREATE TABLE instances (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, vpc_id TEXT NOT NULL);
  CREATE INDEX instances_vpc_id ON instances (vpc_id);
  CREATE INDEX instances_seq ON instances (seq);

  CREATE TABLE security_groups (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL, vpc_id TEXT NOT NULL);
  CREATE INDEX security_groups_vpc_id ON security_groups (vpc_id);
  CREATE INDEX security_groups_seq ON security_groups (seq);

  CREATE TABLE acls (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE INDEX acls_seq ON acls (seq);

  CREATE TABLE gateway_configs (
    gateway_id TEXT PRIMARY KEY,
    revision INTEGER NOT NULL,
    hash TEXT NOT NULL,
    config TEXT NOT NULL,
    compiled_at TEXT NOT NULL
  );

  CREATE TABLE device_states (gateway_id TEXT PRIMARY KEY, serial_number TEXT NOT NULL, data TEXT NOT NULL);

  -- AUTOINCREMENT: an id is never reused, even after the newest events are deleted, so a
  -- client's cursor can never point into a different history.
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    category TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    "before" TEXT,
    "after" TEXT,
    details TEXT
  );
  CREATE INDEX events_resource_id ON events (resource_id, id);
  CREATE INDEX events_category ON events (category, id);
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'entities, compiled gateway configs, device states and events',
    up: (db) => db.exec(ENTITIES_CONFIGS_EVENTS),
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersionOf(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database to the newest schema: every pending migration, in order, in one
 * transaction (all or none). IMMEDIATE so two processes opening a new file do not both migrate.
 * Refuses a database written by newer code rather than guess at its schema.
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  checkSequence(migrations);
  const latest = migrations.length;
  return db
    .transaction(() => {
      const from = schemaVersionOf(db);
      if (from > latest) throw newerDatabase(db.name, from, latest);
      for (const migration of migrations.slice(from)) migration.up(db);
      if (latest !== from) db.pragma(`user_version = ${latest}`);
      return { from, to: latest };
    })
    .immediate();
}

function newerDatabase(path: string, found: number, supported: number): SagError {
  return new SagError(
    'INTERNAL',
    `database ${path} has schema version ${found}, newer than version ${supported} that this broker ` +
      `supports; run a broker release that supports schema version ${found}, or restore a backup ` +
      `taken with this release`,
    { path, databaseVersion: found, supportedVersion: supported },
  );
}

function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migration "${migration.description}" has version ${migration.version}, expected ${index + 1}`,
      );
    }
  });
}
