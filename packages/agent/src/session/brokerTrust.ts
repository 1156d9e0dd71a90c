import { UNTRUSTED_CERTIFICATE_CODES } from '@opensag/proto';
import { errorMessage } from '../errors.js';

const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Why the connection to the broker failed, in words an engineer can act on: certificate problems
 * say what to fix (the CA to pass, the name to use, the clock); anything else is the error itself.
 * `withCa`: whether the agent was given --ca, so the advice differs.
 */
export function describeBrokerError(err: unknown, brokerUrl: string, withCa: boolean): string {
  const code = codeOf(err);
  const detail = `${errorMessage(err)}${code ? ` (${code})` : ''}`;
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return withCa
      ? `the broker's certificate is not trusted: ${detail}; the CA bundle given with --ca (SAG_CA) did not sign it: pass the CA that did`
      : `the broker's certificate is not trusted: ${detail}; pass --ca FILE (SAG_CA) with the CA that signed it (PEM)`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the broker's certificate is not for the address in ${brokerUrl}: ${detail}; use a host name or IP address the certificate lists, or give the broker a certificate for this one`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `the broker's certificate is outside its validity period: ${detail}; renew it on the broker, or check this device's clock`;
  }
  if (NOT_TLS.has(code)) {
    return `the broker did not answer with TLS: ${detail}; is the port in ${brokerUrl} a plain listener? use mqtt:// or ws:// for it`;
  }
  return errorMessage(err);
}
