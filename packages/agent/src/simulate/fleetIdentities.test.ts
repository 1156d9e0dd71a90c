import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProof, isValidSerialNumber, publicKeyFromBase64, verifyProof } from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITIES_FILE, loadFleetIdentities, simulatedSerial } from './fleetIdentities.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sag-sim-id-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('simulated identities', () => {
  it('names devices SIM plus a zero-padded index, valid serial numbers', () => {
    expect(simulatedSerial(1)).toBe('SIM000001');
    expect(simulatedSerial(10_000)).toBe('SIM010000');
    expect(simulatedSerial(1_000_000)).toBe('SIM1000000');
    for (const index of [1, 42, 999_999, 1_000_000])
      expect(isValidSerialNumber(simulatedSerial(index))).toBe(true);
    expect(() => simulatedSerial(0)).toThrow(/not 1 or more/);
  });

  it('makes identities once, in one file, and reuses them on the next run', async () => {
    const first = await loadFleetIdentities(dir, 5);
    expect(first.created).toBe(5);
    expect(first.identities.map((i) => i.serialNumber)).toEqual([
      'SIM000001',
      'SIM000002',
      'SIM000003',
      'SIM000004',
      'SIM000005',
    ]);
    const grown = await loadFleetIdentities(dir, 8);
    expect(grown.created).toBe(3);
    expect(grown.identities.slice(0, 5).map((i) => i.publicKey)).toEqual(
      first.identities.map((i) => i.publicKey),
    );
    const fewer = await loadFleetIdentities(dir, 3);
    expect(fewer.created).toBe(0);
    expect(fewer.identities.map((i) => i.publicKey)).toEqual(
      first.identities.slice(0, 3).map((i) => i.publicKey),
    );
    const stored = JSON.parse(await readFile(join(dir, IDENTITIES_FILE), 'utf8'));
    expect(stored.devices).toHaveLength(8);
  });

  it('gives each device a key pair whose proof the broker would accept', async () => {
    const { identities } = await loadFleetIdentities(dir, 2);
    const [a, b] = identities;
    expect(a.publicKey).not.toBe(b.publicKey);
    const now = Date.now();
    const proof = createProof(a.serialNumber, a.privateKey, now);
    expect(verifyProof(a.serialNumber, proof, publicKeyFromBase64(a.publicKey), now).ok).toBe(true);
    expect(verifyProof(a.serialNumber, proof, publicKeyFromBase64(b.publicKey), now).ok).toBe(false);
  });

  it('refuses a damaged identities.json, naming the file', async () => {
    await writeFile(join(dir, IDENTITIES_FILE), '{"devices":[{"serialNumber":"SIM000002"}]}');
    await expect(loadFleetIdentities(dir, 1)).rejects.toThrow(
      /identities\.json: device 1 is not .*SIM000001/,
    );
  });
});
