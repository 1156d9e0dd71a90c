import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isProtocolError } from './errors.js';
import { createProof, generateIdentity, parseProof, publicKeyFromBase64, verifyProof } from './proof.js';

const SN = 'SAG100WM-HZ-0001';
const NOW = 1_764_000_000_000;
const device = generateIdentity();
const other = generateIdentity();

function withPart(proof: string, index: number, value: string): string {
  const parts = proof.split('.');
  parts[index] = value;
  return parts.join('.');
}

describe('generateIdentity', () => {
  it('makes an Ed25519 pair: the public key as standard base64 of 32 raw bytes, the private key as PEM', () => {
    expect(device.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(device.publicKey, 'base64')).toHaveLength(32);
    expect(device.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(device.privateKeyPem).asymmetricKeyType).toBe('ed25519');
    expect(other.publicKey).not.toBe(device.publicKey);
  });
});

describe('publicKeyFromBase64', () => {
  it('rebuilds the key the device holds', () => {
    const key = publicKeyFromBase64(device.publicKey);
    expect(key.asymmetricKeyType).toBe('ed25519');
    expect(key.export({ format: 'jwk' }).x).toBe(
      Buffer.from(device.publicKey, 'base64').toString('base64url'),
    );
  });

  it.each([
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['base64url alphabet', `${'_'.repeat(43)}=`],
    ['no padding', Buffer.alloc(32, 1).toString('base64').slice(0, 43)],
    ['text', 'not a key'],
    ['empty', ''],
  ])('refuses %s with a ProtocolError', (_, text) => {
    let thrown: unknown;
    try {
      publicKeyFromBase64(text);
    } catch (error) {
      thrown = error;
    }
    expect(isProtocolError(thrown) && thrown.code === 'INVALID_FIELD').toBe(true);
  });
});

describe('createProof', () => {
  it('writes v1.<millis>.<nonce>.<signature>, base64url without padding', () => {
    const proof = createProof(SN, device.privateKeyPem, NOW);
    expect(proof).toMatch(/^v1\.1764000000000\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{86}$/);
  });

  it('uses a fresh nonce each time unless given one', () => {
    expect(parseProof(createProof(SN, device.privateKeyPem, NOW)).nonce).not.toBe(
      parseProof(createProof(SN, device.privateKeyPem, NOW)).nonce,
    );
    const nonce = Buffer.alloc(16, 7).toString('base64url');
    expect(parseProof(createProof(SN, device.privateKeyPem, NOW, nonce)).nonce).toBe(nonce);
  });

  it('refuses a bad serial, a bad nonce, a negative time and a key that is not Ed25519', () => {
    expect(() => createProof('#', device.privateKeyPem, NOW)).toThrow(/serial number/);
    expect(() => createProof(SN, device.privateKeyPem, NOW, 'short')).toThrow(/nonce/);
    expect(() => createProof(SN, device.privateKeyPem, -1)).toThrow(/Unix millisecond/);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => createProof(SN, privateKey, NOW)).toThrow(/not Ed25519/);
  });
});

describe('verifyProof', () => {
  const proof = createProof(SN, createPrivateKey(device.privateKeyPem), NOW);

  it('accepts a fresh proof and hands back its nonce and time for replay tracking', () => {
    expect(verifyProof(SN, proof, device.publicKey, NOW)).toEqual({
      ok: true,
      nonce: parseProof(proof).nonce,
      millis: NOW,
    });
    expect(verifyProof(SN, proof, publicKeyFromBase64(device.publicKey), NOW + 1000).ok).toBe(true);
  });

  it('refuses a proof signed by another key', () => {
    const forged = createProof(SN, other.privateKeyPem, NOW);
    expect(verifyProof(SN, forged, device.publicKey, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a proof made for another serial number', () => {
    expect(verifyProof('SAG100WM-NB-0002', proof, device.publicKey, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a proof whose time, nonce or signature was changed', () => {
    const bad = { ok: false, reason: 'bad-signature' };
    expect(verifyProof(SN, withPart(proof, 1, String(NOW + 1)), device.publicKey, NOW)).toEqual(bad);
    const nonce = Buffer.alloc(16, 9).toString('base64url');
    expect(verifyProof(SN, withPart(proof, 2, nonce), device.publicKey, NOW)).toEqual(bad);
    const signature = proof.split('.')[3];
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(verifyProof(SN, withPart(proof, 3, flipped), device.publicKey, NOW)).toEqual(bad);
  });

  it('accepts up to 300 s of clock difference either way, and not a millisecond more', () => {
    expect(verifyProof(SN, proof, device.publicKey, NOW + 300_000).ok).toBe(true);
    expect(verifyProof(SN, proof, device.publicKey, NOW - 300_000).ok).toBe(true);
    expect(verifyProof(SN, proof, device.publicKey, NOW + 300_001)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyProof(SN, proof, device.publicKey, NOW - 300_001)).toEqual({ ok: false, reason: 'stale' });
  });

  it('honours a narrower skew when asked', () => {
    expect(verifyProof(SN, proof, device.publicKey, NOW + 5_001, 5_000)).toEqual({
      ok: false,
      reason: 'stale',
    });
  });

  it.each([
    ['empty', ''],
    ['three parts', proof.split('.').slice(0, 3).join('.')],
    ['five parts', `${proof}.x`],
    ['another version', withPart(proof, 0, 'v2')],
    ['a signed timestamp', withPart(proof, 1, `+${NOW}`)],
    ['a negative timestamp', withPart(proof, 1, `-${NOW}`)],
    ['a timestamp with leading zeros', withPart(proof, 1, `0${NOW}`)],
    ['a fractional timestamp', withPart(proof, 1, `${NOW}.5`)],
    ['a 15-byte nonce', withPart(proof, 2, Buffer.alloc(15).toString('base64url'))],
    ['a padded nonce', withPart(proof, 2, Buffer.alloc(16).toString('base64'))],
    ['a 63-byte signature', withPart(proof, 3, Buffer.alloc(63).toString('base64url'))],
    ['a signature in standard base64', withPart(proof, 3, Buffer.alloc(64, 0xff).toString('base64'))],
    ['64 KB', 'v1.'.padEnd(65_536, 'a')],
  ])('calls a proof with %s malformed', (_, text) => {
    expect(verifyProof(SN, text, device.publicKey, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => parseProof(text)).toThrow(/CONNECT proof/);
  });

  it('calls a hostile serial number malformed', () => {
    expect(verifyProof('__proto__', proof, device.publicKey, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('throws on a bound key that is not a valid public key', () => {
    expect(() => verifyProof(SN, proof, 'garbage', NOW)).toThrow(/public key/);
  });
});

describe('parseProof', () => {
  it('splits a proof into its time, nonce and signature', () => {
    const nonce = Buffer.alloc(16, 3).toString('base64url');
    const proof = createProof(SN, device.privateKeyPem, NOW, nonce);
    expect(parseProof(proof)).toEqual({ millis: NOW, nonce, signature: proof.split('.')[3] });
  });

  it('throws a MALFORMED ProtocolError', () => {
    let thrown: unknown;
    try {
      parseProof('v1.x.y.z');
    } catch (error) {
      thrown = error;
    }
    expect(isProtocolError(thrown) && thrown.code === 'MALFORMED').toBe(true);
  });
});
