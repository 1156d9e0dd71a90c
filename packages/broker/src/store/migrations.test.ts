import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SagError } from '../errors.js';
import { gatewayMutation, sampleGateway } from '../testing/samples.js';
import { type Migration, migrate, SCHEMA_VERSION, schemaVersionOf } from './migrations.js';
import { openSqliteStore } from './sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'sag-migrations-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(root, `broker-${++files}.db`);

function tables(db: Database.Database): string[] {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
    name: string;
  }[];
  return rows.map((row) => row.name);
}

describe('migrate', () => {
  it('creates the schema of every entity, configs, device states and events', () => {
    const db = new Database(newPath());
    expect(migrate(db)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(schemaVersionOf(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual([
      'acls',
      'ccns',
      'cens',
      'device_states',
      'events',
      'gateway_configs',
      'gateways',
      'instances',
      'security_groups',
      'sqlite_sequence',
      'vpcs',
    ]);
    db.close();
  });

  it('is idempotent: running it again, or reopening the store, changes nothing', () => {
    const path = newPath();
    const store = openSqliteStore(path);
    store.commit(gatewayMutation(sampleGateway('sag-1')));
    store.close();
    const db = new Database(path);
    const schema = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()).toEqual(schema);
    db.close();
    const again = openSqliteStore(path);
    expect([...again.loadTopology().gateways.keys()]).toEqual(['sag-1']);
    again.close();
  });

  it('refuses a database from newer code, naming both versions, and leaves it untouched', () => {
    const path = newPath();
    openSqliteStore(path).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 41}`);
    db.close();
    let error: unknown;
    try {
      openSqliteStore(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SagError);
    expect((error as SagError).message).toContain(`${path} has schema version ${SCHEMA_VERSION + 41}`);
    expect((error as SagError).message).toContain(`newer than version ${SCHEMA_VERSION}`);
    expect((error as SagError).details).toEqual({
      path,
      databaseVersion: SCHEMA_VERSION + 41,
      supportedVersion: SCHEMA_VERSION,
    });
    const after = new Database(path);
    expect(schemaVersionOf(after)).toBe(SCHEMA_VERSION + 41);
    after.close();
  });

  it('applies pending migrations in order, all or none', () => {
    const applied: number[] = [];
    const step = (version: number, sql: string): Migration => ({
      version,
      description: `step ${version}`,
      up: (db) => {
        applied.push(version);
        db.exec(sql);
      },
    });
    const first = step(1, 'CREATE TABLE sites (name TEXT)');
    const second = step(2, "INSERT INTO sites VALUES ('hangzhou')");
    const broken = step(3, 'INSERT INTO no_such_table VALUES (1)');
    const db = new Database(newPath());

    expect(() => migrate(db, [first, second, broken])).toThrow(/no_such_table/);
    expect(schemaVersionOf(db)).toBe(0);
    expect(tables(db)).toEqual([]);

    applied.length = 0;
    expect(migrate(db, [first, second])).toEqual({ from: 0, to: 2 });
    expect(applied).toEqual([1, 2]);

    applied.length = 0;
    const third = step(3, "INSERT INTO sites VALUES ('shanghai')");
    expect(migrate(db, [first, second, third])).toEqual({ from: 2, to: 3 });
    expect(applied).toEqual([3]);
    expect(db.prepare('SELECT name FROM sites').pluck().all()).toEqual(['hangzhou', 'shanghai']);
    db.close();
  });

  it('refuses a list of migrations that is not numbered 1, 2, 3, ...', () => {
    const db = new Database(':memory:');
    const noop = (version: number): Migration => ({ version, description: `v${version}`, up: () => {} });
    expect(() => migrate(db, [noop(1), noop(3)])).toThrow('migration "v3" has version 3, expected 2');
    db.close();
  });
});
