import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';
import { writeFileAtomic } from '../state/atomicFile.js';
import { serialNumberProblem } from './serialNumber.js';

export const IDENTITY_FILE = 'identity.json';
export const PRIVATE_KEY_FILE = 'device-key.pem';

/** What the operator binds to a gateway: printed by `sag-agent init`. */
export interface PublicIdentity {
  serialNumber: string;
  /** Standard base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
}

export interface DeviceIdentity extends PublicIdentity {
  privateKey: KeyObject;
}

export interface InitIdentityOptions {
  /** Replace an existing identity (the gateway must then be re-bound to the new key). */
  force?: boolean;
}

function rawPublicKey(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the state directory (0700) and a new Ed25519 identity for `serialNumber` in it. */
export async function initIdentity(
  stateDir: string,
  serialNumber: string,
  options: InitIdentityOptions = {},
): Promise<DeviceIdentity> {
  const problem = serialNumberProblem(serialNumber);
  if (problem) throw new AgentError('INVALID_SERIAL', problem, { serialNumber });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const identityPath = join(stateDir, IDENTITY_FILE);
  const keyPath = join(stateDir, PRIVATE_KEY_FILE);
  if (!options.force && ((await exists(identityPath)) || (await exists(keyPath)))) {
    throw new AgentError(
      'IDENTITY_EXISTS',
      `${stateDir} already holds a device identity; pass --force to replace it (the gateway must then be re-bound with the new public key)`,
      { stateDir },
    );
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  // The key goes first: an identity.json without its key would look like a usable identity.
  await writeFileAtomic(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  await writeFileAtomic(identityPath, `${JSON.stringify({ serialNumber, publicKey }, null, 2)}\n`, 0o644);
  return { serialNumber, publicKey, privateKey };
}

async function readIdentityFile(stateDir: string): Promise<PublicIdentity> {
  const path = join(stateDir, IDENTITY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new AgentError(
      'IDENTITY_MISSING',
      `no device identity in ${stateDir}; run \`sag-agent init --serial SN --state-dir ${stateDir}\``,
      { stateDir },
    );
  }
  let parsed: { serialNumber?: unknown; publicKey?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AgentError('IDENTITY_CORRUPT', `${path} is not valid JSON`, { path });
  }
  const problem = serialNumberProblem(parsed?.serialNumber);
  if (problem) throw new AgentError('IDENTITY_CORRUPT', `${path}: ${problem}`, { path });
  const publicKey = parsed.publicKey;
  if (typeof publicKey !== 'string' || Buffer.from(publicKey, 'base64').length !== 32) {
    throw new AgentError(
      'IDENTITY_CORRUPT',
      `${path}: publicKey is not the base64 of a 32-byte Ed25519 key`,
      { path },
    );
  }
  return { serialNumber: parsed.serialNumber as string, publicKey };
}

async function readPrivateKey(stateDir: string): Promise<KeyObject> {
  const path = join(stateDir, PRIVATE_KEY_FILE);
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    throw new AgentError(
      'IDENTITY_MISSING',
      `the private key ${path} is missing; re-run sag-agent init --force`,
      {
        path,
      },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new AgentError(
      'IDENTITY_INSECURE',
      `the private key ${path} has mode 0${mode.toString(8)}; it must be 0600 (chmod 600 ${path})`,
      { path, mode },
    );
  }
  try {
    const key = createPrivateKey(await readFile(path, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw new AgentError('IDENTITY_CORRUPT', `${path} is not an Ed25519 private key in PEM form`, {
      path,
      cause: String(err),
    });
  }
}

/** Loads and cross-checks the identity made by `initIdentity`. */
export async function loadIdentity(stateDir: string): Promise<DeviceIdentity> {
  const identity = await readIdentityFile(stateDir);
  const privateKey = await readPrivateKey(stateDir);
  if (rawPublicKey(privateKey) !== identity.publicKey) {
    throw new AgentError(
      'IDENTITY_CORRUPT',
      `${join(stateDir, IDENTITY_FILE)} names a public key that does not belong to ${join(stateDir, PRIVATE_KEY_FILE)}`,
      { stateDir },
    );
  }
  return { ...identity, privateKey };
}
