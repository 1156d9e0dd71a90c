import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { isValidSerialNumber, KEEPALIVE_LIMITS, publicKeyFromBase64 } from '@opensag/proto';
import ipaddr from 'ipaddr.js';
import type { AccessPoint, KeepaliveSettings } from './compile/types.js';
import { AREAS, DEFAULT_QUOTAS } from './domain/index.js';
import type { Quotas } from './domain/types.js';

/** Everything the broker can be told, after flags, environment and config file are merged. */
export interface BrokerConfig {
  dataDir: string;
  http: HostPort;
  mqtt: HostPort;
  /** UDP address of the embedded access point's probe responder. */
  accessPoint: HostPort;
  /**
   * Access points from the config file. When one of them is run by an edge agent (has a serial
   * number), these are every gateway's tunnels in order (active, standby); otherwise they follow
   * the embedded one.
   */
  accessPoints: AccessPoint[];
  enabledAreas: string[];
  quotas: Quotas;
  keepalive: KeepaliveSettings;
  apiToken: string | null;
  logLevel: string;
  /** HTTP requests to /v1 one client address may make per minute. */
  rateLimitPerMinute: number;
  /** With it, MQTT over TCP is MQTT over TLS and the HTTP API (and MQTT over WebSocket) is HTTPS. */
  tls?: TlsCredentials | null;
}

/** The broker's certificate (chain) and private key, PEM, as read at start; the paths for messages. */
export interface TlsCredentials {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface HostPort {
  host: string;
  port: number;
}

/** A bad setting: the program prints this one line and exits. */
export class ConfigError extends Error {
  constructor(setting: string, problem: string) {
    super(`configuration: ${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_KEEPALIVE: KeepaliveSettings = {
  intervalMs: 1000,
  multiplier: 3,
  lossWindow: 20,
  holdDownMs: 10_000,
};

interface Source {
  flag?: string;
  env?: string;
  file?: unknown;
}

/** Each setting: its flag, its environment variable, its config-file key. */
const SETTINGS = {
  dataDir: { flag: 'data-dir', env: 'SAG_DATA_DIR' },
  http: { flag: 'http', env: 'SAG_HTTP' },
  mqtt: { flag: 'mqtt', env: 'SAG_MQTT' },
  accessPoint: { flag: 'access-point', env: 'SAG_ACCESS_POINT' },
  enabledAreas: { flag: 'enabled-areas', env: 'SAG_ENABLED_AREAS' },
  logLevel: { flag: 'log-level', env: 'SAG_LOG_LEVEL' },
  rateLimitPerMinute: { flag: 'rate-limit', env: 'SAG_RATE_LIMIT' },
  apiToken: { flag: undefined, env: 'SAG_API_TOKEN' },
} as const;

const FILE_KEYS = new Set([...Object.keys(SETTINGS), 'accessPoints', 'quotas', 'keepalive', 'tls']);

/** The two TLS settings: `--tls-cert` / `SAG_TLS_CERT` / `tls.cert`, and the same for the key. */
const TLS_SETTINGS = {
  cert: { flag: 'tls-cert', env: 'SAG_TLS_CERT', key: 'tls.cert' },
  key: { flag: 'tls-key', env: 'SAG_TLS_KEY', key: 'tls.key' },
} as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function parseHostPort(setting: string, text: string): HostPort {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535)
    throw new ConfigError(setting, `"${text}" is not host:port (e.g. 127.0.0.1:8080)`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

function pick(
  name: keyof typeof SETTINGS,
  flags: Record<string, string>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
): Source {
  const spec = SETTINGS[name];
  return { flag: spec.flag ? flags[spec.flag] : undefined, env: env[spec.env], file: file[name] };
}

function stringSetting(setting: string, source: Source, fallback: string): string {
  if (source.flag !== undefined) return source.flag;
  if (source.env !== undefined && source.env !== '') return source.env;
  if (source.file === undefined) return fallback;
  if (typeof source.file === 'number') return String(source.file);
  if (typeof source.file !== 'string') throw new ConfigError(setting, 'must be a string in the config file');
  return source.file;
}

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config', `${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function oneOf(setting: string, value: string, allowed: string[]): string {
  if (!allowed.includes(value))
    throw new ConfigError(setting, `"${value}" is not one of ${allowed.join(', ')}`);
  return value;
}

function positiveInteger(setting: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new ConfigError(setting, 'must be a positive integer');
  return value as number;
}

function quotasFrom(file: Record<string, unknown>): Quotas {
  const overrides = file.quotas ?? {};
  if (typeof overrides !== 'object' || overrides === null)
    throw new ConfigError('quotas', 'must be an object');
  const quotas: Quotas = { ...DEFAULT_QUOTAS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(DEFAULT_QUOTAS, key)) {
      throw new ConfigError(
        `quotas.${key}`,
        `unknown quota; known: ${Object.keys(DEFAULT_QUOTAS).join(', ')}`,
      );
    }
    quotas[key as keyof Quotas] = positiveInteger(`quotas.${key}`, value);
  }
  return quotas;
}

function keepaliveFrom(file: Record<string, unknown>): KeepaliveSettings {
  const overrides = file.keepalive ?? {};
  if (typeof overrides !== 'object' || overrides === null)
    throw new ConfigError('keepalive', 'must be an object');
  const keepalive = { ...DEFAULT_KEEPALIVE };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(DEFAULT_KEEPALIVE, key)) {
      throw new ConfigError(
        `keepalive.${key}`,
        `unknown setting; known: ${Object.keys(DEFAULT_KEEPALIVE).join(', ')}`,
      );
    }
    const { min, max } = KEEPALIVE_LIMITS[key as keyof KeepaliveSettings];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      // Devices refuse settings outside these bounds, so the broker must never hand them out.
      throw new ConfigError(`keepalive.${key}`, `must be a whole number from ${min} to ${max}`);
    }
    keepalive[key as keyof KeepaliveSettings] = value as number;
  }
  return keepalive;
}

/** Access point ids share the device-state and config tables with gateway ids (`sag-…`). */
const ACCESS_POINT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function accessPointFrom(entry: Record<string, unknown>, setting: string): AccessPoint {
  if (typeof entry?.id !== 'string' || typeof entry?.address !== 'string') {
    throw new ConfigError(setting, 'needs string fields id and address (host:port)');
  }
  if (!ACCESS_POINT_ID.test(entry.id) || entry.id.startsWith('sag-')) {
    throw new ConfigError(
      `${setting}.id`,
      'must be lowercase letters, digits and dashes (up to 63) and not start with sag- (gateway ids do)',
    );
  }
  parseHostPort(`${setting}.address`, entry.address);
  const point: AccessPoint = { id: entry.id, address: entry.address };
  if (entry.publicKey !== undefined) point.publicKey = String(entry.publicKey);
  if (entry.serialNumber === undefined && entry.identityKey === undefined) return point;
  if (typeof entry.serialNumber !== 'string' || !isValidSerialNumber(entry.serialNumber)) {
    throw new ConfigError(
      `${setting}.serialNumber`,
      'an access point run by an edge agent needs the serial number it was initialised with',
    );
  }
  try {
    publicKeyFromBase64(entry.identityKey as string);
  } catch {
    throw new ConfigError(
      `${setting}.identityKey`,
      'must be the publicKey `sag-agent init` printed for the edge (standard base64 of 32 bytes)',
    );
  }
  return { ...point, serialNumber: entry.serialNumber, identityKey: entry.identityKey as string };
}

function accessPointsFrom(file: Record<string, unknown>): AccessPoint[] {
  const list = file.accessPoints ?? [];
  if (!Array.isArray(list)) throw new ConfigError('accessPoints', 'must be a list of {id, address}');
  const points = list.map((entry, index) => accessPointFrom(entry, `accessPoints[${index}]`));
  const seen = new Map<string, number>();
  points.forEach((point, index) => {
    for (const key of [point.id, point.serialNumber]) {
      if (key === undefined) continue;
      if (seen.has(key)) {
        throw new ConfigError(
          `accessPoints[${index}]`,
          `${key} is already used by accessPoints[${seen.get(key)}]`,
        );
      }
      seen.set(key, index);
    }
  });
  return points;
}

function tlsFileSetting(
  which: keyof typeof TLS_SETTINGS,
  flags: Record<string, string>,
  env: NodeJS.ProcessEnv,
  section: Record<string, unknown>,
): string | undefined {
  const spec = TLS_SETTINGS[which];
  const value = stringSetting(
    spec.flag,
    { flag: flags[spec.flag], env: env[spec.env], file: section[which] },
    '',
  );
  return value === '' ? undefined : value;
}

function readPem(setting: string, path: string, marker: RegExp, what: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(setting, `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!marker.test(pem.toString('latin1'))) throw new ConfigError(setting, `${path} holds no PEM ${what}`);
  return pem;
}

/**
 * The certificate and key for TLS, both or neither. Read and tried together here, so a wrong
 * file stops the broker at start with its name instead of failing every handshake later.
 */
function tlsFrom(
  flags: Record<string, string>,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
): TlsCredentials | null {
  const section = file.tls ?? {};
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new ConfigError('tls', 'must be an object {"cert": FILE, "key": FILE}');
  for (const key of Object.keys(section)) {
    if (!Object.hasOwn(TLS_SETTINGS, key))
      throw new ConfigError(`tls.${key}`, 'unknown setting; known: cert, key');
  }
  const values = section as Record<string, unknown>;
  const certFile = tlsFileSetting('cert', flags, env, values);
  const keyFile = tlsFileSetting('key', flags, env, values);
  if (certFile === undefined && keyFile === undefined) return null;
  if (certFile === undefined || keyFile === undefined) {
    const [given, missing] = certFile === undefined ? ['key', 'cert'] : ['cert', 'key'];
    const spec = TLS_SETTINGS[missing as keyof typeof TLS_SETTINGS];
    throw new ConfigError(
      spec.flag,
      `missing: a TLS ${given} is set, so the ${missing === 'cert' ? 'certificate' : 'private key'} is needed too (--${spec.flag}, ${spec.env} or ${spec.key} in the config file)`,
    );
  }
  const cert = readPem('tls-cert', certFile, /-----BEGIN CERTIFICATE-----/, 'certificate');
  const key = readPem('tls-key', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(
      'tls-key',
      `the key in ${keyFile} cannot serve the certificate in ${certFile}: ${(err as Error).message}`,
    );
  }
  return { certFile, keyFile, cert, key };
}

/**
 * Merges settings: flags win over environment (`SAG_*`), which wins over the config file
 * (`--config FILE` or `SAG_CONFIG`). Throws ConfigError naming the first bad setting.
 */
export function loadConfig(
  flags: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): BrokerConfig {
  const file = readConfigFile(flags.config ?? env.SAG_CONFIG);
  const get = (name: keyof typeof SETTINGS, fallback: string) =>
    stringSetting(SETTINGS[name].flag ?? name, pick(name, flags, env, file), fallback);

  if (Array.isArray(file.enabledAreas)) file.enabledAreas = file.enabledAreas.join(',');
  for (const key of Object.keys(file)) {
    if (!FILE_KEYS.has(key)) {
      throw new ConfigError(key, `unknown config-file key; known: ${[...FILE_KEYS].join(', ')}`);
    }
  }
  const enabledAreas = get('enabledAreas', 'china-mainland')
    .split(',')
    .map((area) => area.trim())
    .filter(Boolean);
  for (const area of enabledAreas) {
    if (!Object.hasOwn(AREAS, area)) {
      throw new ConfigError(
        'enabled-areas',
        `unknown area "${area}"; known: ${Object.keys(AREAS).join(', ')}`,
      );
    }
  }
  const apiToken = get('apiToken', '') || null;
  if (apiToken !== null && apiToken.length < 16) {
    throw new ConfigError('SAG_API_TOKEN', 'must be at least 16 characters');
  }
  return {
    dataDir: get('dataDir', './data'),
    http: parseHostPort('http', get('http', '127.0.0.1:8080')),
    mqtt: parseHostPort('mqtt', get('mqtt', '127.0.0.1:1883')),
    accessPoint: parseHostPort('access-point', get('accessPoint', '127.0.0.1:51821')),
    accessPoints: accessPointsFrom(file),
    enabledAreas,
    quotas: quotasFrom(file),
    keepalive: keepaliveFrom(file),
    apiToken,
    logLevel: oneOf('log-level', get('logLevel', 'info'), LOG_LEVELS),
    rateLimitPerMinute: positiveInteger('rate-limit', Number(get('rateLimitPerMinute', '60000'))),
    tls: tlsFrom(flags, env, file),
  };
}

function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (!ipaddr.isValid(host)) return false;
  const address = ipaddr.process(host);
  return address.range() === 'loopback';
}

/**
 * Without TLS, the sentence to warn with when a listener is reachable beyond this machine (null
 * when every listener is on loopback, or TLS is on).
 */
export function plaintextWarning(config: Pick<BrokerConfig, 'http' | 'mqtt' | 'tls'>): string | null {
  if (config.tls) return null;
  const exposed = [
    ['the HTTP API (and MQTT over WebSocket)', config.http],
    ['the device MQTT listener', config.mqtt],
  ].filter(([, at]) => !isLoopback((at as HostPort).host));
  if (exposed.length === 0) return null;
  const where = exposed.map(([what, at]) => `${what} on ${hostPortText(at as HostPort)}`).join(' and ');
  return (
    `TLS is off: ${where} ${exposed.length > 1 ? 'are' : 'is'} reachable beyond this machine, so device ` +
    'configs and the API token travel unencrypted; set --tls-cert and --tls-key (SAG_TLS_CERT and ' +
    'SAG_TLS_KEY, or tls.cert and tls.key in the config file)'
  );
}

export function hostPortText(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}
