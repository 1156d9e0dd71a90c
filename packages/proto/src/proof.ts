import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { ProtocolError } from './errors.js';
import { isValidSerialNumber } from './topics.js';

/**
 * The CONNECT proof: the MQTT password is `v1.<unixMillis>.<nonce>.<signature>`, the signature being
 * the device's Ed25519 signature over `opensag-v1|<SN>|<unixMillis>|<nonce>`. Nonce (16 bytes) and
 * signature are base64url without padding. Whether a nonce was seen before is the broker's concern.
 */

export interface DeviceIdentity {
  /** Standard base64 of the raw 32-byte Ed25519 public key, as the binding API takes it. */
  publicKey: string;
  privateKeyPem: string;
}

export interface ParsedProof {
  millis: number;
  nonce: string;
  /** base64url, as it appeared in the proof. */
  signature: string;
}

export type ProofVerdict =
  | { ok: true; nonce: string; millis: number }
  | { ok: false; reason: 'malformed' | 'stale' | 'bad-signature' };

/** The broker accepts proofs stamped within this many milliseconds of its own clock. */
export const PROOF_MAX_SKEW_MS = 300_000;

// DER SubjectPublicKeyInfo header for an Ed25519 key; the raw 32 bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const STANDARD_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const NONCE_BYTES = 16;
const SIGNATURE_BYTES = 64;
const MILLIS = /^(0|[1-9]\d{0,15})$/;
const MAX_PROOF_LENGTH = 200;

export function generateIdentity(): DeviceIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
  return {
    publicKey: raw.toString('base64'),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/**
 * The key a device was bound with; throws ProtocolError unless it is 32 bytes of standard base64.
 * Imported as a JWK: OpenSSL 3 builds it straight from the raw bytes, several times faster than
 * decoding the same key wrapped in DER (it is parsed at every device CONNECT).
 */
export function publicKeyFromBase64(publicKey: string): KeyObject {
  if (typeof publicKey !== 'string' || !STANDARD_BASE64.test(publicKey)) {
    throw new ProtocolError(
      'INVALID_FIELD',
      'public key must be the standard base64 of a raw 32-byte Ed25519 key (44 characters ending in =)',
      'publicKey',
    );
  }
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== publicKey) {
    throw new ProtocolError('INVALID_FIELD', 'public key does not decode to exactly 32 bytes', 'publicKey');
  }
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

function signedText(serialNumber: string, millis: number, nonce: string): Buffer {
  return Buffer.from(`opensag-v1|${serialNumber}|${millis}|${nonce}`, 'utf8');
}

/** Decodes canonical unpadded base64url of exactly `bytes` bytes, or returns null. */
function base64urlBytes(text: string, bytes: number): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const decoded = Buffer.from(text, 'base64url');
  if (decoded.length !== bytes || decoded.toString('base64url') !== text) return null;
  return decoded;
}

function toPrivateKey(privateKey: KeyObject | string): KeyObject {
  return typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
}

function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ProtocolError('INVALID_FIELD', `${what} is a ${key.asymmetricKeyType} key, not Ed25519`, what);
  }
  return key;
}

/** The MQTT password for a device: `privateKey` is a KeyObject or the PEM from generateIdentity. */
export function createProof(
  serialNumber: string,
  privateKey: KeyObject | string,
  nowMs: number,
  nonce: string = randomBytes(NONCE_BYTES).toString('base64url'),
): string {
  if (!isValidSerialNumber(serialNumber)) {
    throw new ProtocolError('INVALID_FIELD', 'serial number is not valid for a proof', 'serialNumber');
  }
  const millis = Math.trunc(nowMs);
  if (!MILLIS.test(String(millis))) {
    throw new ProtocolError('INVALID_FIELD', `proof time ${nowMs} is not a non-negative Unix millisecond`);
  }
  if (base64urlBytes(nonce, NONCE_BYTES) === null) {
    throw new ProtocolError('INVALID_FIELD', 'nonce must be 16 bytes of base64url without padding', 'nonce');
  }
  const key = requireEd25519(toPrivateKey(privateKey), 'privateKey');
  const signature = sign(null, signedText(serialNumber, millis, nonce), key).toString('base64url');
  return `v1.${millis}.${nonce}.${signature}`;
}

function malformed(problem: string): never {
  throw new ProtocolError(
    'MALFORMED',
    `CONNECT proof ${problem}; expected v1.<unixMillis>.<nonce>.<signature>`,
  );
}

/** Splits and checks the syntax of a proof; throws ProtocolError (MALFORMED) when it is not one. */
export function parseProof(text: string): ParsedProof {
  if (typeof text !== 'string') malformed('is not text');
  if (text.length > MAX_PROOF_LENGTH) malformed(`is ${text.length} characters long`);
  const parts = text.split('.');
  if (parts.length !== 4) malformed(`has ${parts.length} parts`);
  const [version, millisText, nonce, signature] = parts;
  if (version !== 'v1') malformed(`has version ${JSON.stringify(version)}`);
  if (!MILLIS.test(millisText)) malformed('has a timestamp that is not Unix milliseconds');
  const millis = Number(millisText);
  if (!Number.isSafeInteger(millis)) malformed('has a timestamp out of range');
  if (base64urlBytes(nonce, NONCE_BYTES) === null) malformed('has a nonce that is not 16 bytes of base64url');
  if (base64urlBytes(signature, SIGNATURE_BYTES) === null) {
    malformed('has a signature that is not 64 bytes of base64url');
  }
  return { millis, nonce, signature };
}

/**
 * Checks a proof against the device's bound public key and the broker's clock. The answer says
 * why a proof fails so the refusal can be logged; replay tracking of `nonce` is left to the caller.
 */
export function verifyProof(
  serialNumber: string,
  proofText: string,
  publicKey: KeyObject | string,
  nowMs: number,
  skewMs: number = PROOF_MAX_SKEW_MS,
): ProofVerdict {
  const key = requireEd25519(
    typeof publicKey === 'string' ? publicKeyFromBase64(publicKey) : publicKey,
    'publicKey',
  );
  if (!isValidSerialNumber(serialNumber)) return { ok: false, reason: 'malformed' };
  let proof: ParsedProof;
  try {
    proof = parseProof(proofText);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (Math.abs(nowMs - proof.millis) > skewMs) return { ok: false, reason: 'stale' };
  const signature = Buffer.from(proof.signature, 'base64url');
  if (!verify(null, signedText(serialNumber, proof.millis, proof.nonce), key, signature)) {
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true, nonce: proof.nonce, millis: proof.millis };
}
