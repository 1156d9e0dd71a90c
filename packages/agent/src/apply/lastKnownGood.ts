import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DeviceConfig, validateDeviceConfig } from '../config.js';
import { writeFileAtomic } from '../state/atomicFile.js';
import { canonicalJson, sha256Hex } from './canonicalJson.js';

export const LAST_KNOWN_GOOD_FILE = 'last-known-good.json';
const FORMAT = 1;

/** The last-known-good config, or why there is none usable. Never throws for a bad file. */
export type LoadedLastKnownGood =
  | { config: DeviceConfig; error?: undefined }
  | { config?: undefined; error: string; missing: boolean };

/**
 * Persists `config` as last-known-good. The file carries a sha256 of the config's canonical JSON
 * so a torn or edited file is detected at boot instead of being applied.
 */
export async function saveLastKnownGood(stateDir: string, config: DeviceConfig): Promise<void> {
  const sha256 = sha256Hex(canonicalJson(config));
  const text = `${JSON.stringify({ format: FORMAT, sha256, config }, null, 2)}\n`;
  await writeFileAtomic(join(stateDir, LAST_KNOWN_GOOD_FILE), text, 0o600);
}

/** `validate` holds the file to the same rules as a pushed config (the device's role decides them). */
export async function loadLastKnownGood(
  stateDir: string,
  validate: (config: unknown) => string[] = (config) => validateDeviceConfig(config),
): Promise<LoadedLastKnownGood> {
  const path = join(stateDir, LAST_KNOWN_GOOD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      error: missing ? `no last-known-good config in ${stateDir}` : `cannot read ${path}: ${String(err)}`,
      missing,
    };
  }
  let parsed: { format?: unknown; sha256?: unknown; config?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: `${path} is not valid JSON (torn write or edited by hand)`, missing: false };
  }
  if (parsed?.format !== FORMAT)
    return { error: `${path} has unknown format ${String(parsed?.format)}`, missing: false };
  if (typeof parsed.sha256 !== 'string' || contentHash(parsed.config) !== parsed.sha256) {
    return { error: `${path} fails its sha256 check; its content is corrupt`, missing: false };
  }
  const problems = validate(parsed.config);
  if (problems.length > 0)
    return { error: `${path} holds an invalid config: ${problems.join('; ')}`, missing: false };
  return { config: parsed.config as DeviceConfig };
}

/** The sha256 the file should carry, or null for content too deeply nested to be a config. */
function contentHash(config: unknown): string | null {
  try {
    return sha256Hex(canonicalJson(config));
  } catch {
    return null;
  }
}
