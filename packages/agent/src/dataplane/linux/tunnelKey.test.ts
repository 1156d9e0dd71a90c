import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateTunnelKey, publicKeyOf } from './tunnelKey.js';

// RFC 7748 §6.1: Alice's X25519 key pair.
const ALICE_PRIVATE = Buffer.from(
  '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  'hex',
).toString('base64');
const ALICE_PUBLIC = Buffer.from(
  '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  'hex',
).toString('base64');

describe('tunnel key', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('derives the X25519 public key as wg pubkey does', () => {
    expect(publicKeyOf(ALICE_PRIVATE)).toBe(ALICE_PUBLIC);
  });

  it('makes a 0600 key file once and returns the same public key afterwards', async () => {
    const first = await loadOrCreateTunnelKey(dir);
    expect(first.privateKeyFile).toBe(join(dir, 'tunnel-key'));
    expect((await stat(first.privateKeyFile)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(first.privateKeyFile, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect((await loadOrCreateTunnelKey(dir)).publicKey).toBe(first.publicKey);
  });

  it('uses an existing key and refuses a corrupt one', async () => {
    await writeFile(join(dir, 'tunnel-key'), `${ALICE_PRIVATE}\n`, { mode: 0o644 });
    expect((await loadOrCreateTunnelKey(dir)).publicKey).toBe(ALICE_PUBLIC);
    expect((await stat(join(dir, 'tunnel-key'))).mode & 0o777).toBe(0o600);
    await writeFile(join(dir, 'tunnel-key'), 'not a key\n');
    await expect(loadOrCreateTunnelKey(dir)).rejects.toThrow(/does not hold a base64 WireGuard private key/);
  });
});
