import { createPublicKey, sign, verify } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, initIdentity, loadIdentity, PRIVATE_KEY_FILE } from './identity.js';
import { serialNumberProblem } from './serialNumber.js';

let root: string;
let stateDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sag-identity-'));
  stateDir = join(root, 'state');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('initIdentity', () => {
  it('creates a 0700 state dir, a 0600 PEM key and identity.json with the raw public key', async () => {
    const identity = await initIdentity(stateDir, 'SN-HZ-0001');
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, PRIVATE_KEY_FILE))).mode & 0o777).toBe(0o600);
    const pem = await readFile(join(stateDir, PRIVATE_KEY_FILE), 'utf8');
    expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
    const json = JSON.parse(await readFile(join(stateDir, IDENTITY_FILE), 'utf8'));
    expect(json).toEqual({ serialNumber: 'SN-HZ-0001', publicKey: identity.publicKey });
    expect(identity.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(identity.publicKey, 'base64')).toHaveLength(32);
  });

  it('makes a key whose public half is the one it prints', async () => {
    const identity = await initIdentity(stateDir, 'SN-1');
    const raw = Buffer.from(identity.publicKey, 'base64');
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    const message = Buffer.from('opensag-v1|SN-1|0|nonce');
    expect(verify(null, message, publicKey, sign(null, message, identity.privateKey))).toBe(true);
  });

  it('refuses to overwrite an existing identity unless forced', async () => {
    const first = await initIdentity(stateDir, 'SN-1');
    await expect(initIdentity(stateDir, 'SN-2')).rejects.toMatchObject({ code: 'IDENTITY_EXISTS' });
    expect((await loadIdentity(stateDir)).publicKey).toBe(first.publicKey);
    const second = await initIdentity(stateDir, 'SN-2', { force: true });
    expect(second.publicKey).not.toBe(first.publicKey);
    expect(await loadIdentity(stateDir)).toMatchObject({ serialNumber: 'SN-2', publicKey: second.publicKey });
  });

  it('rejects bad serial numbers before touching the disk', async () => {
    for (const serial of ['', 'a', '-abc', 'has space', 'sn/1', 'x'.repeat(65), 'constructor', 'toString']) {
      await expect(initIdentity(stateDir, serial)).rejects.toMatchObject({ code: 'INVALID_SERIAL' });
    }
    await expect(stat(stateDir)).rejects.toThrow();
  });
});

describe('serialNumberProblem', () => {
  it('accepts plain serials and names the rule otherwise', () => {
    expect(serialNumberProblem('SN-0001')).toBeNull();
    expect(serialNumberProblem('ab')).toBeNull();
    expect(serialNumberProblem('a'.repeat(64))).toBeNull();
    expect(serialNumberProblem('__proto__')).toMatch(/2-64 characters/);
    expect(serialNumberProblem('hasOwnProperty')).toMatch(/reserved/);
    expect(serialNumberProblem(42)).toMatch(/string/);
  });
});

describe('loadIdentity', () => {
  it('loads what init made', async () => {
    const made = await initIdentity(stateDir, 'SN-1');
    const loaded = await loadIdentity(stateDir);
    expect(loaded.serialNumber).toBe('SN-1');
    expect(loaded.publicKey).toBe(made.publicKey);
  });

  it('says how to make an identity when there is none', async () => {
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({
      code: 'IDENTITY_MISSING',
      message: expect.stringContaining('sag-agent init'),
    });
  });

  it('refuses a private key readable by others, naming the fix', async () => {
    await initIdentity(stateDir, 'SN-1');
    await chmod(join(stateDir, PRIVATE_KEY_FILE), 0o644);
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({
      code: 'IDENTITY_INSECURE',
      message: expect.stringContaining('0644'),
    });
  });

  it('reports corrupt identity.json, a corrupt key and a key that does not match', async () => {
    await initIdentity(stateDir, 'SN-1');
    const identityPath = join(stateDir, IDENTITY_FILE);
    const good = await readFile(identityPath, 'utf8');
    await writeFile(identityPath, '{not json');
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({ code: 'IDENTITY_CORRUPT' });
    await writeFile(identityPath, JSON.stringify({ serialNumber: 'SN-1', publicKey: 'c2hvcnQ=' }));
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({ code: 'IDENTITY_CORRUPT' });

    const other = await initIdentity(join(root, 'other'), 'SN-2');
    await writeFile(identityPath, JSON.stringify({ serialNumber: 'SN-1', publicKey: other.publicKey }));
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({
      code: 'IDENTITY_CORRUPT',
      message: expect.stringContaining('does not belong'),
    });

    await writeFile(identityPath, good);
    await writeFile(join(stateDir, PRIVATE_KEY_FILE), 'garbage', { mode: 0o600 });
    await expect(loadIdentity(stateDir)).rejects.toMatchObject({ code: 'IDENTITY_CORRUPT' });
  });
});
