import type { CompiledConfigView, GatewayStatus } from '@opensag/broker';
import type { AgentIdentity } from './agents.js';
import { api } from './processes.js';
import { type WaitForOptions, waitFor } from './waitFor.js';

/** An event as `GET /v1/events` lists it. */
export interface ApiEvent {
  id: number;
  at: string;
  category: 'audit' | 'device';
  action: string;
  resourceId: string;
  details?: Record<string, unknown>;
}

export interface Cloud {
  get<T = unknown>(path: string): Promise<T>;
  post<T = unknown>(path: string, body?: unknown): Promise<T>;
  put<T = unknown>(path: string, body: unknown): Promise<T>;
  delete(path: string): Promise<void>;
}

/** The operator's view of one broker: throws with the API's own message on anything but 2xx. */
export function cloudApi(broker: { url: string; token: string }, call = api(broker)): Cloud {
  const ok = async (method: string, path: string, body?: unknown) => {
    const answer = await call(method, path, body);
    if (answer.status < 200 || answer.status > 299) {
      const error = answer.body?.error;
      throw new Error(`${method} ${path} → ${answer.status} ${error?.code}: ${error?.message}`);
    }
    return answer.body;
  };
  return {
    get: (path) => ok('GET', path),
    post: (path, body = {}) => ok('POST', path, body),
    put: (path, body) => ok('PUT', path, body),
    delete: async (path) => {
      await ok('DELETE', path);
    },
  };
}

/** Orders a gateway and binds the device identity to it; it is then `shipped`, not active. */
export async function orderGatewayFor(cloud: Cloud, name: string, device: AgentIdentity | DeviceKey) {
  const gateway = await cloud.post<{ id: string }>('/v1/gateways', {
    name,
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
  });
  await cloud.put(`/v1/gateways/${gateway.id}/device`, {
    serialNumber: device.serialNumber,
    publicKey: device.publicKey,
  });
  return gateway.id;
}

export interface DeviceKey {
  serialNumber: string;
  publicKey: string;
}

export const gatewayStatus = (cloud: Cloud, id: string) =>
  cloud.get<GatewayStatus>(`/v1/gateways/${id}/status`);

/**
 * Waits until the gateway's sync state is `sync`, at `desiredRevision` when given; returns the
 * status that showed it.
 */
export function waitForSync(
  cloud: Cloud,
  gatewayId: string,
  sync: 'in-sync' | 'failed',
  desiredRevision?: number,
  options?: WaitForOptions,
) {
  return waitFor(
    `gateway ${gatewayId} ${sync} at revision ${desiredRevision ?? 'any'}`,
    async () => {
      const status = await gatewayStatus(cloud, gatewayId);
      const reached =
        status.sync === sync && (desiredRevision === undefined || status.desiredRevision === desiredRevision);
      return reached ? status : null;
    },
    options,
  );
}

export const gatewayConfig = (cloud: Cloud, id: string) =>
  cloud.get<CompiledConfigView>(`/v1/gateways/${id}/config`);

/** Events matching the query, oldest first, with an id above `afterId`. */
export async function events(
  cloud: Cloud,
  query: { resourceId?: string; category?: 'audit' | 'device' },
  afterId = 0,
): Promise<ApiEvent[]> {
  const params = new URLSearchParams({ limit: '500', ...query });
  const page = await cloud.get<{ items: ApiEvent[] }>(`/v1/events?${params}`);
  return page.items.filter((event) => event.id > afterId).sort((a, b) => a.id - b.id);
}

/** The highest event id so far: a marker for "what happened after this point". */
export async function lastEventId(cloud: Cloud): Promise<number> {
  const page = await cloud.get<{ items: ApiEvent[] }>('/v1/events?limit=1');
  return page.items[0]?.id ?? 0;
}
