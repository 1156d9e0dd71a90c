import type { KeyObject } from 'node:crypto';
import { publicKeyFromBase64 } from '@opensag/proto';

interface ParsedKey {
  text: string;
  key: KeyObject;
}

/**
 * Parsed Ed25519 identity keys by serial number, for devices that reconnect (flapping links,
 * replaced sessions). An entry holds only while the bound key text is the same: rebinding to
 * another key parses afresh. A parsed key takes about 1 KB, so only the most recently used ones
 * are kept rather than one per gateway of the fleet; a miss costs one parse (about 20 µs).
 */
export class DeviceKeys {
  private readonly keys = new Map<string, ParsedKey>();

  constructor(private readonly maxEntries = 2048) {}

  /** The parsed form of `text`, the key now bound to `serialNumber`; throws when it is no key. */
  get(serialNumber: string, text: string): KeyObject {
    const known = this.keys.get(serialNumber);
    // Map order is the order of use: the first entry is the least recently used.
    this.keys.delete(serialNumber);
    const key = known?.text === text ? known.key : publicKeyFromBase64(text);
    this.keys.set(serialNumber, { text, key });
    if (this.keys.size > this.maxEntries) this.keys.delete(this.keys.keys().next().value as string);
    return key;
  }

  /** The device was unbound or its gateway deleted. */
  forget(serialNumber: string): void {
    this.keys.delete(serialNumber);
  }

  get size(): number {
    return this.keys.size;
  }
}
