import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity, isValidSerialNumber } from '@opensag/proto';
import { AgentError } from '../errors.js';
import { writeFileAtomic } from '../state/atomicFile.js';

export const IDENTITIES_FILE = 'identities.json';

/** One emulated device's identity as identities.json keeps it. */
export interface StoredIdentity {
  serialNumber: string;
  /** Standard base64 of the raw 32-byte Ed25519 public key, as the binding API takes it. */
  publicKey: string;
  privateKeyPem: string;
}

export interface SimulatedIdentity extends StoredIdentity {
  privateKey: KeyObject;
}

/** `SIM000001`, `SIM000002`, …: fixed width so a larger fleet keeps the names of a smaller one. */
export function simulatedSerial(index: number): string {
  if (!Number.isSafeInteger(index) || index < 1)
    throw new RangeError(`device index ${index} is not 1 or more`);
  return `SIM${String(index).padStart(6, '0')}`;
}

/**
 * The first `count` identities from `stateDir`/identities.json, making (and saving) the missing
 * ones, so every run of the simulator connects as the same devices the API has bound.
 */
export async function loadFleetIdentities(
  stateDir: string,
  count: number,
): Promise<{ identities: SimulatedIdentity[]; created: number }> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, IDENTITIES_FILE);
  const stored = await readIdentities(path);
  const created = Math.max(0, count - stored.length);
  for (let index = stored.length + 1; index <= count; index++) {
    stored.push({ serialNumber: simulatedSerial(index), ...generateIdentity() });
  }
  if (created > 0) await writeFileAtomic(path, `${JSON.stringify({ devices: stored })}\n`, 0o600);
  const identities = stored.slice(0, count).map((identity) => ({
    ...identity,
    privateKey: createPrivateKey(identity.privateKeyPem),
  }));
  return { identities, created };
}

async function readIdentities(path: string): Promise<StoredIdentity[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let devices: unknown;
  try {
    devices = (JSON.parse(text) as { devices?: unknown }).devices;
  } catch {
    devices = undefined;
  }
  if (!Array.isArray(devices)) {
    throw new AgentError('IDENTITY_CORRUPT', `${path} is not {"devices":[…]}; move it away to start afresh`, {
      path,
    });
  }
  devices.forEach((device, i) => {
    const expected = simulatedSerial(i + 1);
    const ok =
      typeof device === 'object' &&
      device !== null &&
      device.serialNumber === expected &&
      isValidSerialNumber(device.serialNumber) &&
      typeof device.publicKey === 'string' &&
      typeof device.privateKeyPem === 'string';
    if (!ok) {
      throw new AgentError(
        'IDENTITY_CORRUPT',
        `${path}: device ${i + 1} is not {"serialNumber":"${expected}","publicKey","privateKeyPem"}; move the file away to start afresh`,
        { path, index: i + 1 },
      );
    }
  });
  return devices as StoredIdentity[];
}
