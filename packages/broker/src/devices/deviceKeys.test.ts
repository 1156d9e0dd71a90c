import { generateIdentity } from '@opensag/proto';
import { describe, expect, it } from 'vitest';
import { DeviceKeys } from './deviceKeys.js';

describe('DeviceKeys', () => {
  it('parses a bound key once and hands back the same key object while it stays bound', () => {
    const keys = new DeviceKeys();
    const { publicKey } = generateIdentity();
    const first = keys.get('SN-1', publicKey);
    expect(first.asymmetricKeyType).toBe('ed25519');
    expect(keys.get('SN-1', publicKey)).toBe(first);
  });

  it('parses afresh when the serial number is bound to another key (rebinding)', () => {
    const keys = new DeviceKeys();
    const before = keys.get('SN-1', generateIdentity().publicKey);
    const other = generateIdentity().publicKey;
    const after = keys.get('SN-1', other);
    expect(after).not.toBe(before);
    expect(after.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64')).toBe(other);
    expect(keys.size).toBe(1);
  });

  it('forgets a serial number and refuses text that is no key', () => {
    const keys = new DeviceKeys();
    keys.get('SN-1', generateIdentity().publicKey);
    keys.forget('SN-1');
    expect(keys.size).toBe(0);
    expect(() => keys.get('SN-2', 'not-a-key')).toThrow(/public key must be the standard base64/);
    expect(keys.size).toBe(0);
  });

  it('keeps only the most recently used keys', () => {
    const keys = new DeviceKeys(2);
    const texts = [1, 2, 3].map(() => generateIdentity().publicKey);
    const first = keys.get('SN-1', texts[0]);
    const second = keys.get('SN-2', texts[1]);
    expect(keys.get('SN-1', texts[0])).toBe(first);
    keys.get('SN-3', texts[2]);
    expect(keys.size).toBe(2);
    // SN-2 was the least recently used: it went; SN-1 stayed.
    expect(keys.get('SN-1', texts[0])).toBe(first);
    expect(keys.get('SN-2', texts[1])).not.toBe(second);
  });
});
