import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { isSagError } from '../errors.js';
import { defineStoreContract } from '../testing/contract.js';
import { gatewayMutation, sampleGateway } from '../testing/samples.js';
import { openSqliteStore, type SqliteStore } from './sqlite.js';
import { WalGroupCommit } from './sqliteGroupCommit.js';

const root = mkdtempSync(join(tmpdir(), 'sag-group-commit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(root, `broker-${++files}.db`);
const openGrouped = (path = newPath()) => openSqliteStore(path, { groupCommit: true });

defineStoreContract('sqlite with group commit', {
  open: () => openGrouped(),
  reopen: (store) => {
    const { path } = store as SqliteStore;
    store.close();
    return openGrouped(path);
  },
});

describe('openSqliteStore with groupCommit', () => {
  it('runs WAL with synchronous=NORMAL and says so; without it, FULL and nothing ever pending', () => {
    const grouped = openGrouped();
    const plain = openSqliteStore(newPath());
    try {
      expect(grouped.info()).toMatchObject({ journalMode: 'wal', synchronous: 1, groupCommit: true });
      expect(plain.info()).toMatchObject({ synchronous: 2, groupCommit: false });
      plain.commit(gatewayMutation(sampleGateway('sag-plain')));
      expect(plain.whenDurable()).toBeNull();
    } finally {
      grouped.close();
      plain.close();
    }
  });

  it('keeps FULL for an in-memory database, which has no log to sync', () => {
    const store = openSqliteStore(':memory:', { groupCommit: true });
    try {
      expect(store.info()).toMatchObject({ groupCommit: false });
    } finally {
      store.close();
    }
  });

  it('hands a commit to the OS at once and settles whenDurable after syncing it', async () => {
    const store = openGrouped();
    try {
      expect(store.whenDurable()).toBeNull();
      store.commit(gatewayMutation(sampleGateway('sag-a')));
      const durable = store.whenDurable();
      expect(durable).toBeInstanceOf(Promise);
      // Another connection already reads it: the commit is in the log, not only in this process.
      const other = new Database(store.path, { readonly: true });
      expect(other.prepare('SELECT id FROM gateways').all()).toEqual([{ id: 'sag-a' }]);
      other.close();
      await durable;
      expect(store.whenDurable()).toBeNull();
    } finally {
      store.close();
    }
  });

  it('settles every waiter of a burst of commits, each after its own commit is synced', async () => {
    const store = openGrouped();
    try {
      const waits: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        store.commit(gatewayMutation(sampleGateway(`sag-${i}`)));
        waits.push(store.whenDurable() as Promise<void>);
      }
      expect(waits.every((wait) => wait instanceof Promise)).toBe(true);
      await Promise.all(waits);
      expect(store.whenDurable()).toBeNull();
      expect(store.loadTopology().gateways.size).toBe(50);
    } finally {
      store.close();
    }
  });

  it('syncs what is pending when it closes, and the commits are there on reopening', async () => {
    const path = newPath();
    const store = openGrouped(path);
    store.commit(gatewayMutation(sampleGateway('sag-last')));
    const durable = store.whenDurable();
    store.close();
    await expect(durable).resolves.toBeUndefined();
    const reopened = openGrouped(path);
    try {
      expect([...reopened.loadTopology().gateways.keys()]).toEqual(['sag-last']);
    } finally {
      reopened.close();
    }
  });
});

describe('WalGroupCommit', () => {
  it('rejects the waiters with an INTERNAL error naming the log when it cannot sync, and tries again later', async () => {
    const walPath = join(root, 'missing-dir', 'broker.db-wal');
    const group = new WalGroupCommit(walPath);
    group.wrote();
    const first = group.whenDurable();
    await expect(first).rejects.toSatisfy(
      (err: unknown) => isSagError(err) && err.code === 'INTERNAL' && err.message.includes(walPath),
    );
    // Still not on disk, so the next wait is another attempt rather than a pretend success.
    const second = group.whenDurable();
    expect(second).toBeInstanceOf(Promise);
    await expect(second).rejects.toThrow(walPath);
    group.close();
  });
});
