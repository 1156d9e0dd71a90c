import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { type Cloud, cloudApi } from './cloud.js';
import { type BrokerProcess, startBroker, tempDir } from './processes.js';

/** A throwaway certificate authority, a server certificate it signed, and an unrelated CA. */
export interface TestPki {
  dir: string;
  /** The CA that signed the server certificate: what agents and sagctl are told to trust. */
  caFile: string;
  /** For 127.0.0.1 and localhost, signed by caFile. */
  certFile: string;
  keyFile: string;
  /** A CA that signed nothing here: trusting it must not be enough. */
  otherCaFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `openssl req` arguments for a new unencrypted P-256 key written to `keyFile`. */
const newP256Key = (keyFile: string) => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  keyFile,
];

function makeCa(dir: string, name: string, commonName: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...newP256Key(`${name}.key`),
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/**
 * Makes the certificates with the `openssl` command line in a fresh temporary directory (removed
 * by removeTempDirs): P-256 keys, valid two days, the server's for IP 127.0.0.1 and DNS localhost.
 */
export function makeTestPki(): TestPki {
  const dir = tempDir('tls');
  makeCa(dir, 'ca', 'OpenSAG test CA');
  makeCa(dir, 'other-ca', 'Some other CA');
  openssl(dir, ['req', ...newP256Key('broker.key'), '-out', 'broker.csr', '-subj', '/CN=localhost']);
  writeFileSync(
    join(dir, 'broker.ext'),
    [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'broker.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'broker.ext',
    '-out',
    'broker.pem',
  ]);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'broker.pem'),
    keyFile: join(dir, 'broker.key'),
    otherCaFile: join(dir, 'other-ca.pem'),
  };
}

export interface TlsBrokerProcess extends BrokerProcess {
  /** wss://127.0.0.1:PORT/mqtt: MQTT over WebSocket on the HTTPS port. */
  wsUrl: string;
}

/** `sag-broker` on ephemeral loopback ports with the certificate and key of `pki` given by environment. */
export async function startTlsBroker(pki: TestPki): Promise<TlsBrokerProcess> {
  const broker = await startBroker({ env: { SAG_TLS_CERT: pki.certFile, SAG_TLS_KEY: pki.keyFile } });
  if (!broker.url.startsWith('https://')) {
    await broker.stop();
    throw new Error(`the broker did not start with TLS: its API is ${broker.url}`);
  }
  return { ...broker, wsUrl: `${broker.url.replace(/^https:/, 'wss:')}/mqtt` };
}

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** One HTTPS request with node:https, trusting only the PEM CA file `caFile` (fetch takes no CA). */
export function httpsRequest(
  url: string,
  options: { caFile: string; method?: string; token?: string; body?: unknown },
): Promise<HttpsAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: readFileSync(options.caFile),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** cloudApi() over HTTPS with a private CA: throws with the API's message on anything but 2xx. */
export function tlsCloud(broker: { url: string; token: string }, caFile: string): Cloud {
  return cloudApi(broker, async (method, path, body) => {
    const answer = await httpsRequest(`${broker.url}${path}`, { caFile, method, token: broker.token, body });
    return { status: answer.status, body: answer.body ? JSON.parse(answer.body) : null };
  });
}
