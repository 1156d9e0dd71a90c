import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from '../errors.js';
import { writeFileAtomic } from '../state/atomicFile.js';
import { type ApiClient, ApiError } from './apiClient.js';
import type { StoredIdentity } from './fleetIdentities.js';

/** serial number → gateway id, for devices bound and activated. */
export const GATEWAYS_FILE = 'gateways.json';
/** serial number → gateway id, for gateways created but not yet bound or activated (resumed next run). */
export const PENDING_GATEWAYS_FILE = 'gateways.pending.json';

export interface ProvisionOptions {
  stateDir: string;
  identities: readonly StoredIdentity[];
  api: ApiClient;
  /** API requests in flight at most. */
  concurrency: number;
  area: string;
  progress?: (line: string) => void;
}

export interface ProvisionSummary {
  count: number;
  /** Provisioned by this run. */
  provisioned: number;
  /** Already in gateways.json. */
  skipped: number;
  elapsedMs: number;
}

interface GatewayView {
  id: string;
  lifecycle: string;
  serialNumber: string | null;
}

/**
 * Creates, binds and activates a gateway per identity through the API (SPEC §2 steps 1-3 in
 * bulk), skipping those gateways.json already lists, so it can be run again after a failure.
 */
export async function provisionFleet(
  options: ProvisionOptions,
): Promise<{ summary: ProvisionSummary; gateways: Record<string, string> }> {
  const startedAt = performance.now();
  const donePath = join(options.stateDir, GATEWAYS_FILE);
  const pendingPath = join(options.stateDir, PENDING_GATEWAYS_FILE);
  const done = await readMap(donePath);
  const pending = await readMap(pendingPath);
  const todo = options.identities.filter((identity) => !Object.hasOwn(done, identity.serialNumber));
  const skipped = options.identities.length - todo.length;
  let provisioned = 0;
  let failure: unknown = null;
  const save = async () => {
    await writeFileAtomic(donePath, `${JSON.stringify(done, null, 1)}\n`, 0o644);
    await writeFileAtomic(pendingPath, `${JSON.stringify(pending, null, 1)}\n`, 0o644);
  };
  const saver = setInterval(() => void save().catch(() => undefined), 1000);
  const progress = setInterval(
    () =>
      options.progress?.(`provision: ${provisioned + skipped}/${options.identities.length} gateways active`),
    1000,
  );

  const provisionOne = async (identity: StoredIdentity) => {
    const { serialNumber } = identity;
    const gateway = await resume(options.api, pending[serialNumber]);
    const id = gateway?.id ?? (await create(options.api, serialNumber, options.area));
    pending[serialNumber] = id;
    if (!gateway || gateway.serialNumber === null) {
      await options.api.ok('PUT', `/v1/gateways/${id}/device`, {
        serialNumber,
        publicKey: identity.publicKey,
      });
    }
    if (gateway?.lifecycle !== 'active') await options.api.ok('POST', `/v1/gateways/${id}/activate`, {});
    done[serialNumber] = id;
    delete pending[serialNumber];
    provisioned++;
  };

  let next = 0;
  const worker = async () => {
    while (failure === null && next < todo.length) {
      const identity = todo[next++];
      try {
        await provisionOne(identity);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  } finally {
    clearInterval(saver);
    clearInterval(progress);
    await save();
  }
  if (failure !== null) throw explain(failure, done, options.stateDir);
  const summary = {
    count: options.identities.length,
    provisioned,
    skipped,
    elapsedMs: Math.round(performance.now() - startedAt),
  };
  const gateways: Record<string, string> = {};
  for (const identity of options.identities) gateways[identity.serialNumber] = done[identity.serialNumber];
  return { summary, gateways };
}

/** A gateway an earlier run created, as it stands now; null when there is none (or it was deleted). */
async function resume(api: ApiClient, id: string | undefined): Promise<GatewayView | null> {
  if (id === undefined) return null;
  const answer = await api.call('GET', `/v1/gateways/${id}`);
  if (answer.status === 404) return null;
  if (answer.status !== 200) throw new ApiError('GET', `/v1/gateways/${id}`, answer.status, null);
  return answer.body as GatewayView;
}

async function create(api: ApiClient, serialNumber: string, area: string): Promise<string> {
  const gateway = await api.ok<{ id: string }>('POST', '/v1/gateways', {
    name: `Simulated ${serialNumber}`,
    area,
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
  });
  return gateway.id;
}

/** The first failure, said so an operator can act: a quota names itself and how to raise it. */
function explain(err: unknown, done: Record<string, string>, stateDir: string): Error {
  const have = Object.keys(done).length;
  if (err instanceof ApiError && err.error?.code === 'QUOTA_EXCEEDED') {
    const limit = err.error.details?.limit;
    return new Error(
      `the broker refused more gateways: its quota "gateways" is ${limit ?? 'reached'} (${have} provisioned in ${stateDir}); ` +
        `raise it in the broker's config file, e.g. {"quotas":{"gateways":20000}} (docs/configuration.md), restart the broker and run this again`,
    );
  }
  if (err instanceof ApiError && err.status === 401) {
    return new Error(`the API refused the token (${err.message}); pass the broker's API token with --token`);
  }
  if (err instanceof Error) {
    // fetch puts the network reason (ECONNREFUSED…) in its cause.
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return new Error(`provisioning stopped after ${have} gateways: ${err.message}${cause}`);
  }
  return new Error(`provisioning stopped after ${have} gateways: ${String(err)}`);
}

async function readMap(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return Object.assign(Object.create(null), parsed) as Record<string, string>;
    }
  } catch {
    // reported below
  }
  throw new AgentError('IDENTITY_CORRUPT', `${path} is not a JSON object of serial number → gateway id`, {
    path,
  });
}
