import { UNTRUSTED_CERTIFICATE_CODES } from '@opensag/proto';
import type { Static } from '@sinclair/typebox';
import type { ErrorBody, Page as PageSchema } from '../api/schemas/common.js';
import type { Connection } from './connection.js';

/** A list answer of the API (`Page` in the route schemas) with items of type T. */
export type Page<T> = Omit<Static<ReturnType<typeof PageSchema>>, 'items'> & { items: T[] };

/** The API answered outside 2xx; code and message are the API's own. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The broker could not be reached at all. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export type Query = Record<string, string | number | undefined>;

/** How long one request may take: live probes wait on the device, so this is generous. */
const REQUEST_TIMEOUT_MS = 60_000;

const NETWORK_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

/** The broker's `/v1` API over HTTP, with the bearer token on every request. */
export class ApiClient {
  constructor(private readonly connection: Connection) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  async delete(path: string): Promise<void> {
    await this.request<unknown>('DELETE', path);
  }

  /** One page, or with `all` every page in turn, joined into one answer whose nextCursor is null. */
  async list<T>(path: string, query: Query, all: boolean): Promise<Page<T>> {
    const first = await this.get<Page<T>>(path, query);
    if (!all) return first;
    const items = [...first.items];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await this.get<Page<T>>(path, { ...query, cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    }
    return { items, nextCursor: null };
  }

  private async request<T>(method: string, path: string, body?: unknown, query: Query = {}): Promise<T> {
    const url = `${this.connection.url}/v1${path}${queryString(query)}`;
    const headers: Record<string, string> = {};
    if (this.connection.token !== null) headers.authorization = `Bearer ${this.connection.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw this.unreachable(err as Error);
    }
    const text = await response.text();
    if (!response.ok) throw errorOf(response, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  private unreachable(err: Error): ConnectionError {
    const where = `cannot reach the broker at ${this.connection.url}`;
    if (err.name === 'TimeoutError') {
      return new ConnectionError(`${where}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    }
    const code = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
      // fetch takes no CA of its own; Node adds this variable's certificates to the ones it trusts.
      return new ConnectionError(
        `${where}: the broker's certificate is not trusted (${code}); for a private CA run sagctl with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`,
      );
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new ConnectionError(
        `${where}: the broker's certificate is not for this address (${(err.cause as Error).message}); use a name it lists in --url`,
      );
    }
    const problem = NETWORK_PROBLEMS[code] ?? (err.cause as Error | undefined)?.message ?? err.message;
    return new ConnectionError(`${where}: ${problem} (is sag-broker running there? set --url or SAG_URL)`);
  }
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The API's own error body when there is one; otherwise what the HTTP answer says. */
function errorOf(response: Response, text: string): ApiError {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not the API answering (a proxy, another server): fall through to the HTTP status.
  }
  const error = (body as Partial<ErrorBody> | null)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiError(response.status, error.code, error.message, body);
  }
  const snippet = text.trim().slice(0, 200);
  return new ApiError(
    response.status,
    `HTTP_${response.status}`,
    `${response.statusText || 'error'}${snippet ? `: ${snippet}` : ''} (is ${response.url} an OpenSAG broker?)`,
    body,
  );
}
