/**
 * Every error the agent raises has a stable code so the session can report it to the broker
 * (in acks and events) and an operator can search for it.
 */

export const AGENT_ERROR_CODES = {
  INVALID_SERIAL: 'The serial number breaks the serial-number rule.',
  IDENTITY_EXISTS: 'The state directory already holds a device identity.',
  IDENTITY_MISSING: 'The state directory holds no device identity.',
  IDENTITY_INSECURE: 'The private key or state directory is readable by others.',
  IDENTITY_CORRUPT: 'The identity files cannot be parsed or do not match each other.',
  DATAPLANE_APPLY_FAILED: 'The data plane could not install a config; nothing was changed.',
  DATAPLANE_CLOSED: 'The data plane was closed.',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: AgentErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'AgentError';
    this.code = code;
    this.details = details;
  }
}

/** Checks shape, not identity, so it holds across duplicate copies of this module. */
export function isAgentError(err: unknown): err is AgentError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'AgentError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as { code: string }).code in AGENT_ERROR_CODES
  );
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
