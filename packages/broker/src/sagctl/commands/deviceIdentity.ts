import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceBinding } from '../../api/schemas/gateways.js';
import type { Flags } from '../args.js';

/** What `sag-agent init` printed, and also keeps in its state directory. */
const IDENTITY_FILE = 'identity.json';

/** The device to bind: `--serial` and `--public-key`, or `--identity` (that JSON, or the state directory). */
export function deviceFromFlags(flags: Flags): DeviceBinding {
  const path = flags.optionalText('identity');
  if (path === undefined) {
    if (!flags.has('serial') || !flags.has('public-key')) {
      throw flags.usage(
        'give --serial and --public-key, or --identity FILE (the JSON printed by sag-agent init)',
      );
    }
    return { serialNumber: flags.text('serial'), publicKey: flags.text('public-key') };
  }
  if (flags.has('serial') || flags.has('public-key')) {
    throw flags.usage('give --identity or --serial/--public-key, not both');
  }
  return readIdentity(path, flags);
}

function readIdentity(path: string, flags: Flags): DeviceBinding {
  let data: unknown;
  try {
    const file = statSync(path).isDirectory() ? join(path, IDENTITY_FILE) : path;
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw flags.usage(`--identity ${path}: ${(err as Error).message}`);
  }
  const { serialNumber, publicKey } = (data ?? {}) as Partial<Record<string, unknown>>;
  if (typeof serialNumber !== 'string' || typeof publicKey !== 'string') {
    throw flags.usage(
      `--identity ${path}: expected {"serialNumber": "...", "publicKey": "..."} as printed by sag-agent init`,
    );
  }
  return { serialNumber, publicKey };
}
