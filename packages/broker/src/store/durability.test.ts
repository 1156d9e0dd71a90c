import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from './sqlite.js';
import type { Store, StoredEvent } from './store.js';

/**
 * A commit that returned must survive the process dying right after. The child runs the real
 * store code: esbuild (already there as vitest's bundler) bundles sqlite.ts and testing/samples.ts into
 * one plain .mjs, with better-sqlite3 left as an import of its installed copy, so the child is
 * plain `node` with no TypeScript loader and no build step.
 */
const here = fileURLToPath(new URL('.', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sag-durability-'));
const databasePath = join(root, 'broker.db');
const childPath = join(root, 'committer.mjs');

const COMMITTER = `
import { writeSync } from 'node:fs';
import { gatewayMutation, openSqliteStore, sampleGateway } from './store.mjs';
const [path, round] = process.argv.slice(2);
const store = openSqliteStore(path);
for (let i = 0; ; i++) {
  const id = 'sag-r' + round + '-' + i;
  store.commit(gatewayMutation(sampleGateway(id)));
  writeSync(1, id + '\\n');
}
`;

beforeAll(async () => {
  const sqlite = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  await build({
    stdin: {
      contents: "export { openSqliteStore } from './sqlite.ts'; export * from '../testing/samples.ts';",
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(root, 'store.mjs'),
    logLevel: 'silent',
    plugins: [
      {
        name: 'installed-better-sqlite3',
        setup(bundler) {
          bundler.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true }));
        },
      },
    ],
  });
  writeFileSync(childPath, COMMITTER);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the committer until it has reported `stopAfter` commits, then SIGKILLs it. */
function commitUntilKilled(round: number, stopAfter: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [childPath, databasePath, String(round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.split('\n').length > stopAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the committer exited on its own: ${stderr}`));
      // Only whole lines: a partly written id was not reported as committed.
      else resolve(stdout.split('\n').slice(0, -1));
    });
  });
}

describe('durability', () => {
  it('keeps every commit the child reported, through five SIGKILLs mid-burst', async () => {
    for (let round = 0; round < 5; round++) {
      const reported = await commitUntilKilled(round, 40 + round * 37);
      expect(reported.length).toBeGreaterThanOrEqual(40 + round * 37);

      const raw = new Database(databasePath);
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      raw.close();
      const store = openSqliteStore(databasePath);
      const gateways = store.loadTopology().gateways;
      const configs = store.loadConfigs();
      const audited = new Set(allEvents(store).map((e) => e.resourceId));
      store.close();
      for (const id of reported) {
        expect(gateways.has(id), id).toBe(true);
        expect(configs.has(id), id).toBe(true);
        expect(audited.has(id), id).toBe(true);
      }
      // At most the one commit that returned just before the kill went unreported.
      const stored = [...gateways.keys()].filter((id) => id.startsWith(`sag-r${round}-`));
      expect(stored.slice(0, reported.length)).toEqual(reported);
      expect(stored.length - reported.length).toBeLessThanOrEqual(1);
    }
  }, 60_000);
});

function allEvents(store: Store): StoredEvent[] {
  const events: StoredEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = store.listEvents({ limit: 500, cursor });
    events.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return events;
}
