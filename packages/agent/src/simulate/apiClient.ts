/** An answer of the broker's HTTP API. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  /** How often a 429 is retried (each after its Retry-After) before giving up. */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The error body every API error has: `{ error: { code, message, details } }`. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly error: ApiErrorBody | null,
  ) {
    super(`${method} ${path} → ${status}${error ? ` ${error.code}: ${error.message}` : ''}`);
  }
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Calls /v1 with the bearer token; a 429 waits its Retry-After and tries again. */
export function apiClient(options: ApiClientOptions) {
  const base = options.url.replace(/\/+$/, '');
  const maxRetries = options.maxRetries ?? 20;
  const sleep = options.sleep ?? sleepFor;

  async function call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status === 429 && attempt < maxRetries) {
        await sleep(retryAfterMs(response.headers.get('retry-after')));
        continue;
      }
      return { status: response.status, body: text === '' ? null : parseJson(text) };
    }
  }

  /** The body of a 2xx answer; throws ApiError with the API's own code and message otherwise. */
  async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await call(method, path, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    const error = (answer.body as { error?: ApiErrorBody } | null)?.error ?? null;
    throw new ApiError(method, path, answer.status, error);
  }

  return { call, ok };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** Retry-After in seconds (what the broker sends) or an HTTP date; one second when absent. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
