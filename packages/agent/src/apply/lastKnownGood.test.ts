import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleConfig } from '../testing/sampleConfig.js';
import { LAST_KNOWN_GOOD_FILE, loadLastKnownGood, saveLastKnownGood } from './lastKnownGood.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sag-lkg-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('last-known-good', () => {
  it('round-trips a config and leaves no temp files', async () => {
    const config = sampleConfig({ revision: 4 });
    await saveLastKnownGood(stateDir, config);
    expect(await loadLastKnownGood(stateDir)).toEqual({ config });
    expect(await readdir(stateDir)).toEqual([LAST_KNOWN_GOOD_FILE]);
    expect((await stat(join(stateDir, LAST_KNOWN_GOOD_FILE))).mode & 0o777).toBe(0o600);
  });

  it('replaces the previous config', async () => {
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 1 }));
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 2 }));
    expect((await loadLastKnownGood(stateDir)).config?.revision).toBe(2);
  });

  it('reports a missing file as missing', async () => {
    const loaded = await loadLastKnownGood(stateDir);
    expect(loaded).toMatchObject({ missing: true });
    expect(loaded.config).toBeUndefined();
  });

  it('detects content changed after it was written, by its hash', async () => {
    await saveLastKnownGood(stateDir, sampleConfig());
    const path = join(stateDir, LAST_KNOWN_GOOD_FILE);
    await writeFile(path, (await readFile(path, 'utf8')).replace('10.1.0.0/16', '10.9.0.0/16'));
    const loaded = await loadLastKnownGood(stateDir);
    expect(loaded).toMatchObject({ missing: false, error: expect.stringContaining('sha256') });
  });

  it('detects a torn file without throwing', async () => {
    await saveLastKnownGood(stateDir, sampleConfig());
    const path = join(stateDir, LAST_KNOWN_GOOD_FILE);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length / 2));
    expect(await loadLastKnownGood(stateDir)).toMatchObject({
      missing: false,
      error: expect.stringContaining('JSON'),
    });
  });

  it('refuses a file whose hash matches but whose config is invalid', async () => {
    await saveLastKnownGood(stateDir, { ...sampleConfig(), tunnels: [] });
    expect((await loadLastKnownGood(stateDir)).error).toMatch(/invalid config: tunnels/);
  });

  it('ignores a temp file left behind by a crash between write and rename', async () => {
    const config = sampleConfig({ revision: 3 });
    await saveLastKnownGood(stateDir, config);
    await writeFile(join(stateDir, `.${LAST_KNOWN_GOOD_FILE}.abc123.tmp`), '{"format":1,"sha256":"x","con');
    expect(await loadLastKnownGood(stateDir)).toEqual({ config });
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 5 }));
    expect((await loadLastKnownGood(stateDir)).config?.revision).toBe(5);
  });

  it('covers a __proto__ key added to the config by its hash', async () => {
    await saveLastKnownGood(stateDir, sampleConfig());
    const path = join(stateDir, LAST_KNOWN_GOOD_FILE);
    const text = await readFile(path, 'utf8');
    // JSON.parse makes `__proto__` an own key; it must not slip past the hash as a prototype.
    await writeFile(path, text.replace('"config": {', '"config": { "__proto__": { "aclId": "acl-evil" },'));
    expect(await loadLastKnownGood(stateDir)).toMatchObject({
      missing: false,
      error: expect.stringContaining('sha256'),
    });
    expect(({} as Record<string, unknown>).aclId).toBeUndefined();
  });

  it('reports content nested too deeply to hash instead of throwing', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    await writeFile(join(stateDir, LAST_KNOWN_GOOD_FILE), `{"format":1,"sha256":"x","config":${deep}}`);
    expect(await loadLastKnownGood(stateDir)).toMatchObject({
      missing: false,
      error: expect.stringContaining('sha256'),
    });
  });

  it('hashes canonical content, so key order in the file does not matter', async () => {
    await saveLastKnownGood(stateDir, sampleConfig());
    const path = join(stateDir, LAST_KNOWN_GOOD_FILE);
    const stored = JSON.parse(await readFile(path, 'utf8'));
    const reordered = Object.fromEntries(Object.entries(stored.config).reverse());
    await writeFile(path, JSON.stringify({ sha256: stored.sha256, config: reordered, format: 1 }));
    expect((await loadLastKnownGood(stateDir)).config).toEqual(sampleConfig());
  });
});
