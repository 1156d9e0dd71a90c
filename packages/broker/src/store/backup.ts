import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SagError } from '../errors.js';
import { ENTITY_TABLES } from './entities.js';
import { SCHEMA_VERSION, schemaVersionOf } from './migrations.js';

/** What a finished backup holds, for the operator's log line and for scripts. */
export interface BackupSummary {
  source: string;
  path: string;
  bytes: number;
  schemaVersion: number;
  /** Always `ok`: a copy that fails the check is deleted and the backup throws. */
  integrity: 'ok';
  /** Rows per table: gateways, ccns, cens, vpcs, instances, security_groups, acls, events. */
  counts: Record<string, number>;
}

export interface BackupOptions {
  /** How long to wait for the broker's lock (a checkpoint, a recovery) before giving up; default 5000. */
  busyTimeoutMs?: number;
}

/** Pages per backup step: all of them, so the copy is one read transaction's snapshot. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies a live broker database to `destination` from another process, with SQLite's online
 * backup: the broker keeps writing meanwhile (WAL readers never block it), and the copy is the
 * state as of one committed transaction. The copy is written beside the destination, checked
 * (`integrity_check`), made a single self-contained file (rollback journal, no -wal to carry),
 * synced, and only then renamed into place, so a backup name never holds a partial copy.
 */
export async function backupDatabase(
  source: string,
  destination: string,
  options: BackupOptions = {},
): Promise<BackupSummary> {
  const target = resolve(destination);
  checkPaths(source, target);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  const db = openSource(source, options.busyTimeoutMs ?? 5000);
  try {
    // Created first with mode 0600: the copy holds what the database holds (PPPoE passwords, the audit trail).
    closeSync(openSync(partial, 'w', 0o600));
    await db.backup(partial, { progress: () => ALL_PAGES });
  } catch (err) {
    removeCopy(partial);
    throw new SagError('INTERNAL', `backup of ${source} to ${target} failed: ${(err as Error).message}`, {
      path: target,
    });
  } finally {
    db.close();
  }
  try {
    const checked = sealCopy(partial);
    fsyncFile(partial);
    renameSync(partial, target);
    fsyncFile(dirname(target));
    return { source, path: target, bytes: statSync(target).size, integrity: 'ok', ...checked };
  } catch (err) {
    removeCopy(partial);
    throw err;
  }
}

function checkPaths(source: string, target: string): void {
  if (!existsSync(source)) {
    throw new SagError('NOT_FOUND', `no database at ${source}: is --data-dir the broker's data directory?`, {
      path: source,
    });
  }
  const live = realpathSync(source);
  if ([live, `${live}-wal`, `${live}-shm`].includes(target)) {
    throw new SagError('INVALID_ARGUMENT', `the backup must not overwrite the live database (${target})`, {
      path: target,
    });
  }
  if (!existsSync(dirname(target))) {
    throw new SagError('NOT_FOUND', `the backup directory ${dirname(target)} does not exist`, {
      path: target,
    });
  }
}

/**
 * Only read from, but opened read-write like any SQLite client: a read-only connection to a WAL
 * database cannot remove the -wal and -shm files it must create when the broker is stopped, and
 * would leave them behind (owned by whoever ran the backup).
 */
function openSource(source: string, busyTimeoutMs: number): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(source, { fileMustExist: true, timeout: busyTimeoutMs });
    const version = schemaVersionOf(db);
    if (version === 0 || version > SCHEMA_VERSION) {
      throw new Error(
        version === 0
          ? 'it is not an OpenSAG database (schema version 0)'
          : `its schema version ${version} is newer than ${SCHEMA_VERSION}, the newest this release knows`,
      );
    }
    return db;
  } catch (err) {
    db?.close();
    throw new SagError('INTERNAL', `cannot back up ${source}: ${(err as Error).message}`, { path: source });
  }
}

/** Checks the copy and turns it into one file; returns what it holds. */
function sealCopy(path: string): Pick<BackupSummary, 'schemaVersion' | 'counts'> {
  const copy = new Database(path, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') {
      throw new SagError('INTERNAL', `the backup copy failed its integrity check: ${String(integrity)}`, {
        path,
      });
    }
    const tables = [...Object.values(ENTITY_TABLES).map((entity) => entity.table), 'events'];
    const counts: Record<string, number> = {};
    for (const table of tables) {
      counts[table] = (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }
    return { schemaVersion: schemaVersionOf(copy), counts };
  } finally {
    copy.close();
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeCopy(path: string): void {
  for (const file of [path, `${path}-journal`, `${path}-wal`, `${path}-shm`]) rmSync(file, { force: true });
}
