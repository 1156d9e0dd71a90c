import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmulatedDataPlane } from '../dataplane/emulated/emulatedDataPlane.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { ConfigApplier } from './applier.js';
import { LAST_KNOWN_GOOD_FILE, loadLastKnownGood, saveLastKnownGood } from './lastKnownGood.js';

let stateDir: string;
let dataPlane: EmulatedDataPlane;
let applier: ConfigApplier;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'sag-apply-'));
  dataPlane = new EmulatedDataPlane();
  applier = new ConfigApplier({ stateDir, dataPlane });
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('ConfigApplier.apply', () => {
  it('applies, verifies and persists a valid config as last-known-good', async () => {
    const config = sampleConfig({ revision: 3, hash: 'h3' });
    expect(await applier.apply(config)).toEqual({ result: 'applied', revision: 3, hash: 'h3' });
    expect(dataPlane.snapshot().revision).toBe(3);
    expect((await loadLastKnownGood(stateDir)).config).toEqual(config);
    expect(applier.applied?.revision).toBe(3);
  });

  it('rejects an invalid config without touching the data plane or disk', async () => {
    await applier.apply(sampleConfig({ revision: 1 }));
    const apply = vi.spyOn(dataPlane, 'apply');
    const outcome = await applier.apply({ ...sampleConfig({ revision: 2, hash: 'h2' }), tunnels: [] });
    expect(outcome).toMatchObject({ result: 'rejected', revision: 2, hash: 'h2' });
    expect(outcome.error).toContain('tunnels: must list 1 or 2 access points');
    expect(apply).not.toHaveBeenCalled();
    expect((await loadLastKnownGood(stateDir)).config?.revision).toBe(1);
  });

  it('rejects garbage with protobuf-default ids', async () => {
    expect(await applier.apply('nonsense')).toMatchObject({ result: 'rejected', revision: 0, hash: '' });
  });

  it('re-acks a duplicate or stale revision with what is applied, without touching the data plane', async () => {
    await applier.apply(sampleConfig({ revision: 5, hash: 'h5' }));
    const apply = vi.spyOn(dataPlane, 'apply');
    const duplicate = { result: 'applied', revision: 5, hash: 'h5', duplicate: true };
    expect(await applier.apply(sampleConfig({ revision: 5, hash: 'h5' }))).toEqual(duplicate);
    expect(await applier.apply(sampleConfig({ revision: 4, hash: 'h4', routes: [] }))).toEqual(duplicate);
    expect(apply).not.toHaveBeenCalled();
    expect(dataPlane.lookup('10.1.0.1')).not.toBeNull();
  });

  it('rolls back to last-known-good when the data plane refuses the config', async () => {
    await applier.apply(sampleConfig({ revision: 1 }));
    dataPlane.failNextApply('wireguard interface busy');
    const outcome = await applier.apply(sampleConfig({ revision: 2, hash: 'h2', routes: [] }));
    expect(outcome).toEqual({
      result: 'rolled-back',
      revision: 2,
      hash: 'h2',
      error: 'revision 2 failed: emulated data plane: wireguard interface busy; rolled back to revision 1',
    });
    expect(dataPlane.snapshot().revision).toBe(1);
    expect(dataPlane.lookup('10.1.0.1')).not.toBeNull();
    expect((await loadLastKnownGood(stateDir)).config?.revision).toBe(1);
  });

  it('rolls back when verify finds the installed state differs', async () => {
    await applier.apply(sampleConfig({ revision: 1 }));
    dataPlane.loseRouteOnNextApply('10.2.0.0/16');
    const outcome = await applier.apply(sampleConfig({ revision: 2 }));
    expect(outcome.result).toBe('rolled-back');
    expect(outcome.error).toContain('route 10.2.0.0/16 (tunnel) is missing');
    expect(await dataPlane.verify(sampleConfig({ revision: 1 }))).toEqual([]);
    expect(applier.applied?.revision).toBe(1);
  });

  it('rolls back when last-known-good cannot be persisted', async () => {
    const failing = new ConfigApplier({
      stateDir,
      dataPlane,
      persist: async (dir, config) => {
        if (config.revision === 2) throw new Error('ENOSPC: no space left on device');
        await saveLastKnownGood(dir, config);
      },
    });
    await failing.apply(sampleConfig({ revision: 1 }));
    const outcome = await failing.apply(sampleConfig({ revision: 2 }));
    expect(outcome).toMatchObject({ result: 'rolled-back', error: expect.stringContaining('ENOSPC') });
    expect(dataPlane.snapshot().revision).toBe(1);
  });

  it('clears the data plane when a first config fails verify and there is nothing to go back to', async () => {
    dataPlane.loseRouteOnNextApply('10.1.0.0/16');
    const outcome = await applier.apply(sampleConfig({ revision: 1 }));
    expect(outcome).toMatchObject({
      result: 'rolled-back',
      error: expect.stringContaining('data plane was cleared'),
    });
    expect(dataPlane.snapshot().revision).toBeNull();
    expect(applier.applied).toBeNull();
    expect(await applier.apply(sampleConfig({ revision: 1 }))).toMatchObject({ result: 'applied' });
  });

  it('handles concurrent pushes one at a time, in order', async () => {
    const outcomes = await Promise.all([
      applier.apply(sampleConfig({ revision: 2 })),
      applier.apply(sampleConfig({ revision: 1 })),
      applier.apply(sampleConfig({ revision: 3 })),
    ]);
    expect(outcomes.map((o) => [o.result, o.revision, o.duplicate ?? false])).toEqual([
      ['applied', 2, false],
      ['applied', 2, true],
      ['applied', 3, false],
    ]);
  });
});

describe('ConfigApplier.bootFromLastKnownGood', () => {
  it('applies last-known-good from disk, and then treats its revision as applied', async () => {
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 7, hash: 'h7' }));
    expect(await applier.bootFromLastKnownGood()).toEqual({ result: 'applied', revision: 7, hash: 'h7' });
    expect(dataPlane.snapshot().revision).toBe(7);
    expect(await applier.apply(sampleConfig({ revision: 7, hash: 'h7' }))).toMatchObject({ duplicate: true });
  });

  it('starts empty when there is no last-known-good', async () => {
    expect(await applier.bootFromLastKnownGood()).toMatchObject({ result: 'none' });
    expect(dataPlane.snapshot().revision).toBeNull();
  });

  it('refuses a corrupt last-known-good and leaves the data plane empty', async () => {
    await saveLastKnownGood(stateDir, sampleConfig());
    await writeFile(join(stateDir, LAST_KNOWN_GOOD_FILE), '{"format":1,"sha256":"0","config":{}}');
    expect(await applier.bootFromLastKnownGood()).toMatchObject({
      result: 'failed',
      error: expect.stringContaining('sha256'),
    });
    expect(dataPlane.snapshot().revision).toBeNull();
    expect(applier.applied).toBeNull();
  });

  it('removes the temp files a crash left while persisting, and keeps the others', async () => {
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 2 }));
    const torn = `.${LAST_KNOWN_GOOD_FILE}.0a1b2c3d4e5f.tmp`;
    await writeFile(join(stateDir, torn), '{"format":1,"sha256":"x","con');
    await writeFile(join(stateDir, 'notes.tmp'), 'kept');
    expect(await applier.bootFromLastKnownGood()).toMatchObject({ result: 'applied', revision: 2 });
    expect((await readdir(stateDir)).sort()).toEqual([LAST_KNOWN_GOOD_FILE, 'notes.tmp']);
  });

  it('reports a last-known-good the data plane refuses', async () => {
    await saveLastKnownGood(stateDir, sampleConfig({ revision: 2 }));
    dataPlane.failNextApply('no wireguard module');
    expect(await applier.bootFromLastKnownGood()).toMatchObject({
      result: 'failed',
      error: expect.stringContaining('no wireguard module'),
    });
  });
});
