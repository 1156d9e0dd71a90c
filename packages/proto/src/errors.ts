/** Why a device-protocol payload or proof was refused. */
export type ProtocolErrorCode = 'TOO_LARGE' | 'MALFORMED' | 'UNSUPPORTED_VERSION' | 'INVALID_FIELD';

export const PROTOCOL_ERROR_CODES: readonly ProtocolErrorCode[] = [
  'TOO_LARGE',
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'INVALID_FIELD',
];

/**
 * The one error the codec, topic and proof helpers throw on bad input. `field` names the offending
 * field (e.g. `tunnels[1].role`) when there is one.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly field: string | undefined;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/**
 * True for a ProtocolError, judged by shape rather than `instanceof` so that it still holds when two
 * copies of this package end up loaded side by side.
 */
export function isProtocolError(value: unknown): value is ProtocolError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown; message?: unknown };
  return (
    candidate.name === 'ProtocolError' &&
    typeof candidate.message === 'string' &&
    PROTOCOL_ERROR_CODES.includes(candidate.code as ProtocolErrorCode)
  );
}
