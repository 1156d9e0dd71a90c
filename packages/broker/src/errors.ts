/**
 * Every error the broker answers with has a stable code, listed here and in docs/errors.md.
 * The HTTP status is part of the code's definition so a route never picks one ad hoc.
 */

export const ERROR_CODES = {
  VALIDATION: { status: 400, summary: 'The request body, path or query does not match the schema.' },
  INVALID_NAME: { status: 400, summary: 'A name breaks the naming rule.' },
  INVALID_CIDR: {
    status: 400,
    summary: 'A CIDR block is malformed, not canonical, or of a prefix length that is not allowed.',
  },
  INVALID_AREA: { status: 400, summary: 'Unknown area, or an area not enabled for gateways.' },
  INVALID_REGION: { status: 400, summary: 'Unknown region.' },
  INVALID_SPEC: { status: 400, summary: 'Unknown gateway spec, or bandwidth outside its range.' },
  INVALID_SUBSCRIPTION: { status: 400, summary: 'Subscription months not one of 1-9, 12, 24, 36.' },
  INVALID_RULE: {
    status: 400,
    summary: 'An ACL or security-group rule has a bad field (priority, port range, protocol).',
  },
  INVALID_PORTS: { status: 400, summary: 'WAN/LAN port configuration is inconsistent.' },
  INVALID_ARGUMENT: { status: 400, summary: 'A field is well-formed but not acceptable here.' },
  UNAUTHORIZED: { status: 401, summary: 'Missing or wrong bearer token.' },
  NOT_FOUND: { status: 404, summary: 'No resource with that id.' },
  INVALID_STATE: { status: 409, summary: 'The resource is not in a state that allows the operation.' },
  CIDR_CONFLICT: { status: 409, summary: 'A CIDR block overlaps another block reachable from it.' },
  AREA_MISMATCH: { status: 409, summary: 'A gateway and a CCN are in different areas.' },
  ALREADY_BOUND: { status: 409, summary: 'The resource is already bound or attached elsewhere.' },
  IN_USE: { status: 409, summary: 'The resource is still referenced and cannot be deleted.' },
  QUOTA_EXCEEDED: { status: 409, summary: 'A quota would be exceeded.' },
  RATE_LIMITED: { status: 429, summary: 'Too many requests.' },
  INTERNAL: { status: 500, summary: 'An unexpected failure; the request had no effect.' },
  DEVICE_OFFLINE: { status: 409, summary: "The gateway's device is not connected, so it cannot be asked." },
  DEVICE_TIMEOUT: { status: 504, summary: 'The device did not answer in time.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class SagError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'SagError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** A type guard that holds across duplicate copies of this module (it checks shape, not identity). */
export function isSagError(err: unknown): err is SagError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'SagError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code in ERROR_CODES
  );
}
