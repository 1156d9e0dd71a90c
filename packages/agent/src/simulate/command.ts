import { EXIT } from '../cli/exit.js';
import { jsonLineLog } from '../cli/log.js';
import type { CliIo } from '../cli/main.js';
import {
  type LogLevelSetting,
  requireSetting,
  resolveSetting,
  SettingError,
  type SettingSources,
} from '../cli/settings.js';
import { apiClient } from './apiClient.js';
import { openFilesProblem, readOpenFilesLimit } from './fdLimit.js';
import { type Fleet, type FleetSummary, startFleet } from './fleet.js';
import { loadFleetIdentities, type StoredIdentity } from './fleetIdentities.js';
import { provisionFleet } from './provision.js';
import { parseSourceAddresses } from './sourceAddress.js';

type Flags = SettingSources['flags'];

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;

export const SIMULATE_OPTIONS = {
  count: str,
  broker: str,
  ca: str,
  'state-dir': str,
  api: str,
  token: str,
  area: str,
  concurrency: str,
  'report-interval-ms': str,
  keepalive: str,
  'settle-timeout-ms': str,
  once: bool,
  'source-addresses': str,
  'udp-probes': bool,
  'log-level': str,
  help: bool,
} as const;

export const PROVISION_OPTIONS = {
  count: str,
  'state-dir': str,
  api: str,
  token: str,
  area: str,
  concurrency: str,
  help: bool,
} as const;

/** `sag-agent simulate`: N emulated gateways until SIGINT/SIGTERM (or the summary, with --once). */
export async function simulateCommand(flags: Flags, io: CliIo): Promise<number> {
  const sources = { flags, env: io.env, file: null };
  const count = wholeNumber(flags, 'count', 1, 1_000_000);
  const brokerUrl = requireSetting(sources, 'broker');
  const ca = resolveSetting(sources, 'ca');
  const stateDir = requireSetting(sources, 'stateDir');
  const concurrency = wholeNumber(flags, 'concurrency', 1, 100_000, 200);
  const reportIntervalMs = wholeNumber(flags, 'report-interval-ms', 100, 3_600_000, 10_000);
  const keepaliveSeconds = wholeNumber(flags, 'keepalive', 1, 300, 30);
  const settleTimeoutMs = wholeNumber(flags, 'settle-timeout-ms', 1, 86_400_000, 120_000);
  const logLevel: LogLevelSetting = resolveSetting(sources, 'logLevel', 'error') ?? 'error';
  const sourceAddresses = optionalSourceAddresses(flags);
  const api = apiSettings(flags, io, false);
  const udpProbes = flags['udp-probes'] === true;
  const problem = openFilesProblem(udpProbes ? 2 * count : count, readOpenFilesLimit());
  if (problem) throw new Error(problem);

  const identities = await identitiesIn(stateDir, count, io);
  if (api) await provision({ stateDir, identities, api, concurrency: 32, area: area(flags), io });
  const fleet = await startFleet({
    identities,
    brokerUrl,
    ...(ca ? { ca } : {}),
    concurrency,
    reportIntervalMs,
    keepaliveSeconds,
    settleTimeoutMs,
    sourceAddresses,
    udpProbes,
    deviceLog: deviceLog(io, logLevel),
    progress: (line) => io.stderr(`${line}\n`),
  });
  const stopped = io.stopRequested.then(() => null);
  const summary = await Promise.race([fleet.settled, stopped]);
  const shown = summary ?? (await closedSummary(fleet));
  io.stdout(`${JSON.stringify(shown)}\n`);
  explainFailures(fleet, shown, io);
  if (summary && flags.once !== true) {
    io.stderr('simulate: the devices stay connected; SIGINT or SIGTERM stops them\n');
    await stopped;
  }
  io.stderr('simulate: disconnecting\n');
  await fleet.close();
  return shown.inSync === shown.count ? EXIT.ok : EXIT.failed;
}

/** `sag-agent simulate provision`: creates, binds and activates a gateway per identity. */
export async function provisionCommand(flags: Flags, io: CliIo): Promise<number> {
  const sources = { flags, env: io.env, file: null };
  const count = wholeNumber(flags, 'count', 1, 1_000_000);
  const stateDir = requireSetting(sources, 'stateDir');
  const concurrency = wholeNumber(flags, 'concurrency', 1, 1000, 32);
  const api = apiSettings(flags, io, true)!;
  const identities = await identitiesIn(stateDir, count, io);
  const summary = await provision({ stateDir, identities, api, concurrency, area: area(flags), io });
  io.stdout(`${JSON.stringify(summary)}\n`);
  return EXIT.ok;
}

async function identitiesIn(stateDir: string, count: number, io: CliIo) {
  const startedAt = performance.now();
  const { identities, created } = await loadFleetIdentities(stateDir, count);
  const ms = Math.round(performance.now() - startedAt);
  io.stderr(`simulate: ${count} identities from ${stateDir}/identities.json (${created} new) in ${ms} ms\n`);
  return identities;
}

async function provision(options: {
  stateDir: string;
  identities: readonly StoredIdentity[];
  api: { url: string; token: string };
  concurrency: number;
  area: string;
  io: CliIo;
}) {
  const { summary } = await provisionFleet({
    stateDir: options.stateDir,
    identities: options.identities,
    api: apiClient(options.api),
    concurrency: options.concurrency,
    area: options.area,
    progress: (line) => options.io.stderr(`${line}\n`),
  });
  options.io.stderr(
    `provision: ${summary.provisioned} provisioned, ${summary.skipped} already were, in ${summary.elapsedMs} ms\n`,
  );
  return summary;
}

/** Stopped before the fleet settled: the figures as they were. */
async function closedSummary(fleet: Fleet): Promise<FleetSummary> {
  await fleet.close();
  return fleet.settled;
}

function explainFailures(fleet: Fleet, summary: FleetSummary, io: CliIo): void {
  const failure = fleet.firstFailure();
  if (summary.failed > 0 && failure) {
    io.stderr(`simulate: ${summary.failed} failed, e.g. ${failure.serialNumber}: ${failure.reason}\n`);
  }
  if (summary.inSync < summary.count) {
    io.stderr(
      `simulate: ${summary.count - summary.inSync} devices have applied no config; are they provisioned (sag-agent simulate provision) and their gateways active?\n`,
    );
  }
}

function deviceLog(io: CliIo, level: LogLevelSetting) {
  return (serialNumber: string) => jsonLineLog((line) => io.stderr(line), level, { serialNumber });
}

function apiSettings(flags: Flags, io: CliIo, required: boolean): { url: string; token: string } | null {
  const url = typeof flags.api === 'string' ? flags.api : undefined;
  const token = typeof flags.token === 'string' ? flags.token : io.env.SAG_API_TOKEN || undefined;
  if (url === undefined) {
    if (required) throw new SettingError('simulate provision: --api URL is required');
    return null;
  }
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new SettingError(
      `--api ${JSON.stringify(url)} is not an http:// URL such as http://127.0.0.1:8080`,
    );
  }
  if (token === undefined) throw new SettingError('--api needs --token T (or SAG_API_TOKEN)');
  return { url, token };
}

function area(flags: Flags): string {
  return typeof flags.area === 'string' && flags.area !== '' ? flags.area : 'china-mainland';
}

function optionalSourceAddresses(flags: Flags): string[] {
  if (typeof flags['source-addresses'] !== 'string') return [];
  try {
    return parseSourceAddresses(flags['source-addresses']);
  } catch (err) {
    throw new SettingError((err as Error).message);
  }
}

function wholeNumber(flags: Flags, name: string, min: number, max: number, fallback?: number): number {
  const value = flags[name];
  if (value === undefined) {
    if (fallback === undefined) throw new SettingError(`--${name} is required`);
    return fallback;
  }
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingError(`--${name} ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
  }
  return n;
}
