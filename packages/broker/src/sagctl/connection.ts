import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './args.js';

/** Where sagctl finds the broker and its token. */
export interface Connection {
  /** Base URL without a trailing slash or `/v1`, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string | null;
}

export interface ConnectionSources {
  flags: { url?: string; token?: string; tokenFile?: string; config?: string };
  env: Record<string, string | undefined>;
  /** For the default config file, `~/.config/opensag/sagctl.json`. */
  homeDir: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const FILE_KEYS = ['url', 'token', 'tokenFile'] as const;

interface ConfigFile {
  url?: string;
  token?: string;
  /** Resolved against the config file's folder. */
  tokenFile?: string;
}

/** Each setting from the first place that has it: flags, then environment (`SAG_*`), then the config file. */
export function resolveConnection({ flags, env, homeDir }: ConnectionSources): Connection {
  if (flags.token !== undefined && flags.tokenFile !== undefined) {
    throw new UsageError('give --token or --token-file, not both', 'sagctl');
  }
  const file = readConfigFile(flags.config ?? nonEmpty(env.SAG_CONFIG), env, homeDir);
  const url = flags.url ?? nonEmpty(env.SAG_URL) ?? file.url ?? DEFAULT_URL;
  const token =
    flags.token ??
    (flags.tokenFile !== undefined ? readTokenFile(flags.tokenFile, '--token-file') : undefined) ??
    nonEmpty(env.SAG_API_TOKEN) ??
    file.token ??
    (file.tokenFile !== undefined ? readTokenFile(file.tokenFile, 'config file tokenFile') : undefined) ??
    null;
  return { url: normalizeUrl(url), token };
}

/** `--config FILE` and `SAG_CONFIG` must exist; the default file is optional. */
function readConfigFile(
  named: string | undefined,
  env: Record<string, string | undefined>,
  homeDir: string,
): ConfigFile {
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? join(homeDir, '.config');
  const path = named ?? join(configHome, 'opensag', 'sagctl.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (named === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`config file ${path}: ${(err as Error).message}`);
  }
  return parseConfigFile(path, text);
}

function parseConfigFile(path: string, text: string): ConfigFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`config file ${path}: not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(
      `config file ${path}: expected a JSON object such as {"url": "...", "token": "..."}`,
    );
  }
  const config: ConfigFile = {};
  for (const [key, value] of Object.entries(data)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`config file ${path}: unknown setting "${key}" (known: ${FILE_KEYS.join(', ')})`);
    }
    if (typeof value !== 'string' || value === '') {
      throw new UsageError(`config file ${path}: ${key} must be a non-empty string`);
    }
    config[key as keyof ConfigFile] = key === 'tokenFile' ? resolve(dirname(path), value) : value;
  }
  return config;
}

function readTokenFile(path: string, setting: string): string {
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`${setting} ${path}: ${(err as Error).message}`);
  }
  if (token === '') throw new UsageError(`${setting} ${path}: the file is empty`);
  return token;
}

function normalizeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`url "${text}" is not a URL such as ${DEFAULT_URL}`, 'sagctl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`url "${text}" must start with http:// or https://`, 'sagctl');
  }
  return url.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
