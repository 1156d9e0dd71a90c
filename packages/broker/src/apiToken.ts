import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'api-token';

/**
 * The operator's bearer token: the configured one if given, else the one stored in the data
 * directory, else a new one written there with mode 0600. `generated` tells the caller to print it
 * (once: later starts read the file).
 */
export function resolveApiToken(
  dataDir: string,
  configured: string | null,
): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const path = join(dataDir, TOKEN_FILE);
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    return { token: readFileSync(path, 'utf8').trim(), generated: false };
  }
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, generated: true };
}
