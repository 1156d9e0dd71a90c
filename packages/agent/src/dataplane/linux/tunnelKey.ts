import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../../errors.js';

/** The device's WireGuard private key: base64 of the raw 32 bytes, as `wg set … private-key` reads it. */
export const TUNNEL_KEY_FILE = 'tunnel-key';

export interface TunnelKey {
  /** Path of the private key file (mode 0600) handed to `wg set`. */
  privateKeyFile: string;
  /** Base64 of the raw 32-byte X25519 public key; the agent reports it in hello. */
  publicKey: string;
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410), so node:crypto can derive its public half.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function publicKeyOf(privateKeyBase64: string): string {
  const raw = Buffer.from(privateKeyBase64, 'base64');
  if (raw.length !== 32) throw new RangeError('a WireGuard private key is 32 bytes of base64');
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url').toString('base64');
}

function newPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return Buffer.from(jwk.d as string, 'base64url').toString('base64');
}

/** Loads the tunnel key pair from `stateDir`, making it on first use. */
export async function loadOrCreateTunnelKey(stateDir: string): Promise<TunnelKey> {
  const privateKeyFile = join(stateDir, TUNNEL_KEY_FILE);
  let text: string | null = null;
  try {
    text = (await readFile(privateKeyFile, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === null) {
    text = newPrivateKey();
    await writeFile(privateKeyFile, `${text}\n`, { mode: 0o600, flag: 'wx' });
  }
  await chmod(privateKeyFile, 0o600);
  try {
    return { privateKeyFile, publicKey: publicKeyOf(text) };
  } catch {
    throw new AgentError(
      'IDENTITY_CORRUPT',
      `${privateKeyFile} does not hold a base64 WireGuard private key`,
      {
        file: privateKeyFile,
      },
    );
  }
}
