import { readFileSync } from 'node:fs';
import { parseListen } from '../dataplane/open.js';

/**
 * Settings of `sag-agent`, from (first wins) flags, `SAG_*` environment, a JSON config file.
 * Every bad value stops the program with one line naming where it came from.
 */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Setting<T> {
  /** The flag, without its dashes. */
  flag: string;
  env: string;
  /** The key in the config file. */
  key: string;
  /** Parses a text value (flag, environment) or a JSON value (config file); throws SettingError's reason. */
  parse(value: unknown): T;
  /** What --help says about accepted values. */
  accepts: string;
}

const ACCEPTED_DATAPLANES = ['emulated', 'linux'] as const;
const ACCEPTED_ROLES = ['branch', 'edge'] as const;
const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];

function text(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new Error('is empty; expected text');
  return value;
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: unknown): T => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw new Error(`is not accepted; accepted: ${allowed.join(', ')}`);
    }
    return value as T;
  };
}

function wholeNumber(min: number, max: number, unit: string) {
  return (value: unknown): number => {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`is not a whole number of ${unit} from ${min} to ${max}`);
    }
    return n;
  };
}

function brokerUrl(value: unknown): string {
  const raw = text(value);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('is not a URL such as mqtt://127.0.0.1:1883');
  }
  if (!BROKER_PROTOCOLS.includes(url.protocol) || url.hostname === '') {
    throw new Error(
      'is not an mqtt://, mqtts://, ws:// or wss:// URL with a host, such as mqtt://127.0.0.1:1883',
    );
  }
  return raw;
}

/** A PEM bundle of CA certificates, read now so a wrong path stops the agent at start. */
function caBundle(value: unknown): string {
  const path = text(value);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot be read: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  return pem;
}

function listenAddress(value: unknown): string {
  const raw = text(value);
  const at = parseListen(raw);
  if (!at || at.port === 0) {
    throw new Error(
      'is not HOST:PORT with a port of 1-65534, such as 0.0.0.0:51820 (WireGuard takes PORT + 1)',
    );
  }
  return raw;
}

export const SETTINGS = {
  stateDir: { flag: 'state-dir', env: 'SAG_STATE_DIR', key: 'stateDir', parse: text, accepts: 'a directory' },
  broker: {
    flag: 'broker',
    env: 'SAG_BROKER',
    key: 'broker',
    parse: brokerUrl,
    accepts: 'mqtt://HOST:PORT (also mqtts://, ws://HOST:PORT/mqtt, wss://)',
  },
  ca: {
    flag: 'ca',
    env: 'SAG_CA',
    key: 'ca',
    parse: caBundle,
    accepts: 'a PEM file of CA certificates',
  },
  dataplane: {
    flag: 'dataplane',
    env: 'SAG_DATAPLANE',
    key: 'dataplane',
    parse: oneOf(ACCEPTED_DATAPLANES),
    accepts: ACCEPTED_DATAPLANES.join('|'),
  },
  role: {
    flag: 'role',
    env: 'SAG_ROLE',
    key: 'role',
    parse: oneOf(ACCEPTED_ROLES),
    accepts: ACCEPTED_ROLES.join('|'),
  },
  listen: {
    flag: 'listen',
    env: 'SAG_LISTEN',
    key: 'listen',
    parse: listenAddress,
    accepts: 'port 1-65534',
  },
  keepalive: {
    flag: 'keepalive',
    env: 'SAG_KEEPALIVE',
    key: 'keepalive',
    // The broker refuses a keepalive above 300 s (it would hide a dead device from presence).
    parse: wholeNumber(1, 300, 'seconds'),
    accepts: 'seconds, 1-300',
  },
  reportInterval: {
    flag: 'report-interval',
    env: 'SAG_REPORT_INTERVAL',
    key: 'reportInterval',
    parse: wholeNumber(1, 3600, 'seconds'),
    accepts: 'seconds, 1-3600',
  },
  logLevel: {
    flag: 'log-level',
    env: 'SAG_LOG_LEVEL',
    key: 'logLevel',
    parse: oneOf(LOG_LEVELS),
    accepts: LOG_LEVELS.join('|'),
  },
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
type SettingValue<N extends SettingName> = ReturnType<(typeof SETTINGS)[N]['parse']>;

/** Where settings come from, in order of precedence. */
export interface SettingSources {
  flags: Record<string, string | boolean | undefined>;
  env: Record<string, string | undefined>;
  /** The parsed config file and its path, when one was given. */
  file: { path: string; values: Record<string, unknown> } | null;
}

/** The value of one setting from the first source that has it, or `fallback`. */
export function resolveSetting<N extends SettingName>(
  sources: SettingSources,
  name: N,
  fallback?: SettingValue<N>,
): SettingValue<N> | undefined {
  const setting = SETTINGS[name] as Setting<SettingValue<N>>;
  const fromFlag = sources.flags[setting.flag];
  if (fromFlag !== undefined) return parseFrom(setting, fromFlag, `--${setting.flag}`);
  const fromEnv = sources.env[setting.env];
  if (fromEnv !== undefined && fromEnv !== '') return parseFrom(setting, fromEnv, setting.env);
  if (sources.file && setting.key in sources.file.values) {
    return parseFrom(setting, sources.file.values[setting.key], `${setting.key} in ${sources.file.path}`);
  }
  return fallback;
}

export function requireSetting<N extends SettingName>(sources: SettingSources, name: N): SettingValue<N> {
  const value = resolveSetting(sources, name);
  if (value === undefined) {
    const setting = SETTINGS[name];
    throw new SettingError(
      `--${setting.flag} is required (or set ${setting.env}, or ${setting.key} in --config)`,
    );
  }
  return value;
}

function parseFrom<T>(setting: Setting<T>, value: unknown, source: string): T {
  try {
    return setting.parse(value);
  } catch (err) {
    const shown =
      typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
    throw new SettingError(`${source} ${shown} ${(err as Error).message}`);
  }
}

/**
 * Reads the JSON config file named by --config or SAG_CONFIG; only the keys of `allowed` may
 * appear, so a misspelt key is caught instead of silently ignored.
 */
export function loadConfigFile(
  flags: SettingSources['flags'],
  env: SettingSources['env'],
  allowed: readonly SettingName[],
): SettingSources['file'] {
  const path = typeof flags.config === 'string' ? flags.config : env.SAG_CONFIG || undefined;
  if (path === undefined) return null;
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not valid JSON';
    throw new SettingError(`config file ${path} ${reason}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new SettingError(`config file ${path} must hold a JSON object`);
  }
  const keys = allowed.map((name) => SETTINGS[name].key);
  for (const key of Object.keys(values)) {
    if (!keys.includes(key)) {
      throw new SettingError(`config file ${path}: unknown setting "${key}" (known: ${keys.join(', ')})`);
    }
  }
  return { path, values: values as Record<string, unknown> };
}
