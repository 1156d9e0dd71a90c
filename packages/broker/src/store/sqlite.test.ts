import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SagError } from '../errors.js';
import { defineStoreContract } from '../testing/contract.js';
import { gatewayMutation, sampleConfig, sampleGateway, sampleMutation } from '../testing/samples.js';
import { openSqliteStore, type SqliteStore } from './sqlite.js';

const root = mkdtempSync(join(tmpdir(), 'sag-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(root, `broker-${++files}.db`);

defineStoreContract('sqlite', {
  open: () => openSqliteStore(newPath()),
  reopen: (store) => {
    const { path } = store as SqliteStore;
    store.close();
    return openSqliteStore(path);
  },
});

describe('openSqliteStore', () => {
  it('runs with WAL, synchronous=FULL, foreign keys and a busy timeout', () => {
    const store = openSqliteStore(newPath(), { busyTimeoutMs: 1234 });
    try {
      expect(store.info()).toMatchObject({
        schemaVersion: 1,
        journalMode: 'wal',
        synchronous: 2,
        foreignKeys: true,
        busyTimeoutMs: 1234,
      });
    } finally {
      store.close();
    }
    const defaults = openSqliteStore(newPath());
    expect(defaults.info().busyTimeoutMs).toBe(5000);
    defaults.close();
  });

  it('names the path when the directory does not exist', () => {
    const path = join(root, 'missing', 'broker.db');
    expect(() => openSqliteStore(path)).toThrow(SagError);
    expect(() => openSqliteStore(path)).toThrow(`cannot open the database ${path}`);
  });

  it('names the path when the file is not a database', () => {
    const path = newPath();
    writeFileSync(path, 'this is not a database, but it is long enough to have a header of sorts'.repeat(20));
    expect(() => openSqliteStore(path)).toThrow(
      new RegExp(`cannot open the database ${path}: .*not a database`),
    );
  });

  it('backs up while commits continue, to a consistent database holding every committed row', async () => {
    const store = openSqliteStore(newPath());
    // Enough pages that the online backup takes several steps with writes in between.
    const description = 'branch office '.repeat(150);
    const seed = Array.from({ length: 1500 }, (_, i) => sampleGateway(`sag-${i}`, { description }));
    store.commit(
      sampleMutation(
        seed.map((value) => ({ op: 'put', kind: 'gateway', value })),
        { configs: seed.map((g) => sampleConfig(g.id, 1)) },
      ),
    );
    let committed = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        store.commit(gatewayMutation(sampleGateway(`sag-live-${committed}`, { description })));
        committed += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const path = join(root, 'backup-during-writes.db');
    await store.backup(path);
    writing = false;
    await writer;
    store.close();
    expect(committed).toBeGreaterThan(0);

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const copy = openSqliteStore(path);
    try {
      const gateways = copy.loadTopology().gateways;
      for (const gateway of seed) expect(gateways.get(gateway.id)).toEqual(gateway);
      // A snapshot of whole commits: every gateway in it came with its config and audit event.
      const events = copy.listEvents({ limit: 500 });
      expect(copy.loadConfigs().size).toBe(gateways.size);
      expect(gateways.size).toBe(seed.length + (events.items[0]?.id ?? 0) - 1);
    } finally {
      copy.close();
    }
  });
});
