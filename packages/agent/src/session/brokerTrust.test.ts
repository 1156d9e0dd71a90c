import { describe, expect, it } from 'vitest';
import { describeBrokerError } from './brokerTrust.js';

function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeBrokerError', () => {
  const url = 'mqtts://cloud.example.net:8883';

  it('says the certificate is not trusted and to pass --ca, or that the given CA did not sign it', () => {
    const err = tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate');
    expect(describeBrokerError(err, url, false)).toBe(
      "the broker's certificate is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); pass --ca FILE (SAG_CA) with the CA that signed it (PEM)",
    );
    expect(describeBrokerError(err, url, true)).toContain(
      'the CA bundle given with --ca (SAG_CA) did not sign it: pass the CA that did',
    );
    const selfSigned = tlsError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate');
    expect(describeBrokerError(selfSigned, url, false)).toMatch(/^the broker's certificate is not trusted: /);
  });

  it('names the address for a certificate of another name, the clock for an expired one', () => {
    const altName = tlsError(
      'ERR_TLS_CERT_ALTNAME_INVALID',
      "Hostname/IP does not match certificate's altnames",
    );
    expect(describeBrokerError(altName, url, true)).toContain(
      `the broker's certificate is not for the address in ${url}`,
    );
    const expired = tlsError('CERT_HAS_EXPIRED', 'certificate has expired');
    expect(describeBrokerError(expired, url, true)).toContain("check this device's clock");
  });

  it('spots a plain listener behind an mqtts:// URL, and leaves other errors as they are', () => {
    const plain = tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number');
    expect(describeBrokerError(plain, url, false)).toContain('the broker did not answer with TLS');
    const refused = tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8883');
    expect(describeBrokerError(refused, url, false)).toBe('connect ECONNREFUSED 127.0.0.1:8883');
  });
});
