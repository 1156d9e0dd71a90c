import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SagError } from '../errors.js';
import { gatewayMutation, sampleGateway } from '../testing/samples.js';
import { backupDatabase } from './backup.js';
import { SCHEMA_VERSION } from './migrations.js';
import { openSqliteStore } from './sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'sag-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = () => mkdtempSync(join(root, `case-${++dirs}-`));

describe('backupDatabase', () => {
  it('copies commits still in the write-ahead log of a database another connection holds open', async () => {
    const dir = newDir();
    const live = openSqliteStore(join(dir, 'opensag.db'), { groupCommit: true });
    try {
      for (let i = 0; i < 20; i++) live.commit(gatewayMutation(sampleGateway(`sag-${i}`)));
      await live.whenDurable();
      // Not checkpointed yet: a plain copy of opensag.db alone would miss them.
      expect(statSync(join(dir, 'opensag.db-wal')).size).toBeGreaterThan(0);

      const wal = statSync(join(dir, 'opensag.db-wal'));
      const summary = await backupDatabase(join(dir, 'opensag.db'), join(dir, 'copy.db'));
      // Closing its connection must not checkpoint away the log the broker's group commit syncs.
      expect(statSync(join(dir, 'opensag.db-wal'))).toMatchObject({ ino: wal.ino, size: wal.size });
      expect(summary).toMatchObject({
        integrity: 'ok',
        schemaVersion: SCHEMA_VERSION,
        path: join(dir, 'copy.db'),
      });
      expect(summary.counts).toMatchObject({ gateways: 20, events: 20 });

      const copy = openSqliteStore(join(dir, 'copy.db'));
      expect([...copy.loadTopology().gateways.keys()]).toEqual([...live.loadTopology().gateways.keys()]);
      copy.close();
      // The live database takes writes as before.
      live.commit(gatewayMutation(sampleGateway('sag-after')));
    } finally {
      live.close();
    }
  });

  it('finishes while another connection commits every few milliseconds', async () => {
    // SQLite restarts a backup step by step whenever another connection writes in between: with
    // the default 100-page steps a backup of a busy database of some megabytes never ends.
    const dir = newDir();
    const path = join(dir, 'opensag.db');
    openSqliteStore(path).close();
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.exec('CREATE TABLE filler (x TEXT)');
    const fill = writer.prepare('INSERT INTO filler VALUES (?)');
    writer.transaction(() => {
      for (let i = 0; i < 8000; i++) fill.run('x'.repeat(1000));
    })();
    let writes = 0;
    const timer = setInterval(() => {
      fill.run('w');
      writes++;
    }, 2);
    try {
      const started = Date.now();
      const summary = await backupDatabase(path, join(dir, 'copy.db'));
      expect(summary.integrity).toBe('ok');
      expect(Date.now() - started).toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(writes).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
      writer.close();
    }
    const copy = new Database(join(dir, 'copy.db'), { readonly: true });
    expect(copy.prepare('SELECT count(*) FROM filler').pluck().get()).toBeGreaterThanOrEqual(8000);
    copy.close();
  });

  it('writes one private, self-contained file and leaves nothing partial beside it', async () => {
    const dir = newDir();
    openSqliteStore(join(dir, 'opensag.db')).close();
    const out = join(dir, 'nightly.db');
    writeFileSync(out, 'the previous backup');
    await backupDatabase(join(dir, 'opensag.db'), out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const copy = new Database(out, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    expect(readdirSync(dir).sort()).toEqual(['nightly.db', 'opensag.db']);
  });

  it('refuses a missing database, a missing directory and the live files as destination', async () => {
    const dir = newDir();
    const db = join(dir, 'opensag.db');
    await expect(backupDatabase(db, join(dir, 'copy.db'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(db),
    });
    openSqliteStore(db).close();
    await expect(backupDatabase(db, join(dir, 'no', 'such', 'copy.db'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('does not exist'),
    });
    for (const target of [db, `${db}-wal`]) {
      await expect(backupDatabase(db, target)).rejects.toBeInstanceOf(SagError);
    }
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  it('refuses a file that is not an OpenSAG database, leaving no copy', async () => {
    const dir = newDir();
    const other = new Database(join(dir, 'other.db'));
    other.exec('CREATE TABLE t (x)');
    other.close();
    await expect(backupDatabase(join(dir, 'other.db'), join(dir, 'copy.db'))).rejects.toMatchObject({
      message: expect.stringContaining('not an OpenSAG database'),
    });
    expect(readdirSync(dir)).toEqual(['other.db']);
  });
});
