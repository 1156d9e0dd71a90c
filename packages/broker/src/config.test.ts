import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../../../test/support/processes.js';
import { makeTestPki } from '../../../test/support/tls.js';
import { loadConfig, plaintextWarning } from './config.js';

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'opensag-config-')), 'broker.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('broker configuration', () => {
  it('takes flags over environment over the config file, and defaults for the rest', () => {
    const file = configFile({ http: '127.0.0.1:7001', mqtt: '127.0.0.1:7002', logLevel: 'debug' });
    const config = loadConfig(
      { config: file, http: '127.0.0.1:9001' },
      { SAG_HTTP: '127.0.0.1:8001', SAG_MQTT: '127.0.0.1:8002' },
    );
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9001 });
    expect(config.mqtt).toEqual({ host: '127.0.0.1', port: 8002 });
    expect(config.logLevel).toBe('debug');
    expect(config.dataDir).toBe('./data');
    expect(config.enabledAreas).toEqual(['china-mainland']);
    expect(config.keepalive).toEqual({ intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 });
  });

  it('reads quotas, keepalive, access points and a list of areas from the file', () => {
    const config = loadConfig(
      {
        config: configFile({
          enabledAreas: ['china-mainland', 'europe'],
          quotas: { gateways: 10_000 },
          keepalive: { intervalMs: 200, holdDownMs: 0 },
          accessPoints: [{ id: 'ap-edge-2', address: '127.0.0.1:51900' }],
        }),
      },
      {},
    );
    expect(config.enabledAreas).toEqual(['china-mainland', 'europe']);
    expect(config.quotas.gateways).toBe(10_000);
    expect(config.keepalive).toMatchObject({ intervalMs: 200, holdDownMs: 0, multiplier: 3 });
    expect(config.accessPoints).toEqual([{ id: 'ap-edge-2', address: '127.0.0.1:51900' }]);
  });

  it('reads access points run by edge agents, refusing a bad serial, key, id or a repeat', () => {
    const edge = {
      id: 'ap-edge-a',
      address: '203.0.113.11:51820',
      serialNumber: 'SAGEDGEA01',
      identityKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
    };
    const load = (accessPoints: unknown[]) => () =>
      loadConfig({ config: configFile({ accessPoints }) }, {}).accessPoints;
    expect(load([edge])()).toEqual([edge]);
    expect(load([{ ...edge, serialNumber: 'no spaces allowed' }])).toThrow(
      'accessPoints[0].serialNumber: an access point run by an edge agent needs the serial number',
    );
    expect(load([{ ...edge, identityKey: 'abc' }])).toThrow(
      'accessPoints[0].identityKey: must be the publicKey',
    );
    expect(load([{ ...edge, id: 'sag-edge' }])).toThrow('accessPoints[0].id: must be lowercase letters');
    expect(load([edge, { ...edge, id: 'ap-edge-b' }])).toThrow(
      'accessPoints[1]: SAGEDGEA01 is already used by accessPoints[0]',
    );
  });

  it.each([
    [{ http: 'localhost' }, {}, 'configuration: http: "localhost" is not host:port (e.g. 127.0.0.1:8080)'],
    [{}, { SAG_ENABLED_AREAS: 'mars' }, 'configuration: enabled-areas: unknown area "mars"'],
    [{}, { SAG_API_TOKEN: 'short' }, 'configuration: SAG_API_TOKEN: must be at least 16 characters'],
    [{}, { SAG_LOG_LEVEL: 'loud' }, 'configuration: log-level: "loud" is not one of fatal, error, warn'],
    [{}, { SAG_RATE_LIMIT: 'many' }, 'configuration: rate-limit: must be a positive integer'],
  ])('refuses %j %j with one line naming the setting', (flags, env, message) => {
    expect(() => loadConfig(flags as Record<string, string>, env)).toThrow(message);
  });

  it('refuses file settings that every device would reject, unknown keys and broken files', () => {
    const load = (content: unknown) => () => loadConfig({ config: configFile(content) }, {});
    expect(load({ keepalive: { intervalMs: 10 } })).toThrow(
      'configuration: keepalive.intervalMs: must be a whole number from 50 to 60000',
    );
    expect(load({ keepalive: { multiplier: 50 } })).toThrow(
      'keepalive.multiplier: must be a whole number from 1 to 20',
    );
    expect(load({ keepalive: { jitter: 1 } })).toThrow('keepalive.jitter: unknown setting');
    expect(load({ quotas: { gateways: 0 } })).toThrow('quotas.gateways: must be a positive integer');
    expect(load({ httpPort: 8080 })).toThrow('configuration: httpPort: unknown config-file key');
    expect(load({ accessPoints: [{ id: 'x' }] })).toThrow(
      'accessPoints[0]: needs string fields id and address',
    );
    expect(load('{ not json')).toThrow(/configuration: config: .* is not valid JSON/);
    expect(() => loadConfig({ config: '/nonexistent/broker.json' }, {})).toThrow(
      'configuration: config: cannot read /nonexistent/broker.json',
    );
  });
});

describe('broker TLS settings', () => {
  const pki = makeTestPki();
  afterAll(removeTempDirs);

  it('reads certificate and key from flags, environment or the tls section of the file', () => {
    const fromFlags = loadConfig({ 'tls-cert': pki.certFile, 'tls-key': pki.keyFile }, {});
    expect(fromFlags.tls).toMatchObject({ certFile: pki.certFile, keyFile: pki.keyFile });
    expect(fromFlags.tls?.cert.toString()).toContain('-----BEGIN CERTIFICATE-----');
    const fromEnv = loadConfig({}, { SAG_TLS_CERT: pki.certFile, SAG_TLS_KEY: pki.keyFile });
    expect(fromEnv.tls?.keyFile).toBe(pki.keyFile);
    const fromFile = loadConfig(
      { config: configFile({ tls: { cert: pki.certFile, key: pki.keyFile } }) },
      {},
    );
    expect(fromFile.tls?.certFile).toBe(pki.certFile);
    // The flag wins over the environment: a CA certificate without its key is refused by name.
    expect(() =>
      loadConfig({ 'tls-cert': pki.caFile }, { SAG_TLS_CERT: pki.certFile, SAG_TLS_KEY: pki.keyFile }),
    ).toThrow(
      `configuration: tls-key: the key in ${pki.keyFile} cannot serve the certificate in ${pki.caFile}`,
    );
  });

  it('is off unless set', () => {
    expect(loadConfig({}, {}).tls).toBeNull();
    expect(loadConfig({}, { SAG_TLS_CERT: '', SAG_TLS_KEY: '' }).tls).toBeNull();
  });

  it('wants both or neither, naming the missing one', () => {
    expect(() => loadConfig({ 'tls-cert': pki.certFile }, {})).toThrow(
      'configuration: tls-key: missing: a TLS cert is set, so the private key is needed too (--tls-key, SAG_TLS_KEY or tls.key in the config file)',
    );
    expect(() => loadConfig({}, { SAG_TLS_KEY: pki.keyFile })).toThrow(
      'configuration: tls-cert: missing: a TLS key is set, so the certificate is needed too (--tls-cert, SAG_TLS_CERT or tls.cert in the config file)',
    );
  });

  it('names a file it cannot read or that holds no PEM of the right kind', () => {
    expect(() => loadConfig({ 'tls-cert': '/nonexistent/broker.pem', 'tls-key': pki.keyFile }, {})).toThrow(
      'configuration: tls-cert: cannot read /nonexistent/broker.pem: ENOENT',
    );
    expect(() => loadConfig({ 'tls-cert': pki.keyFile, 'tls-key': pki.keyFile }, {})).toThrow(
      `configuration: tls-cert: ${pki.keyFile} holds no PEM certificate`,
    );
    expect(() => loadConfig({ 'tls-cert': pki.certFile, 'tls-key': pki.certFile }, {})).toThrow(
      `configuration: tls-key: ${pki.certFile} holds no PEM private key`,
    );
    const load = (tls: unknown) => () => loadConfig({ config: configFile({ tls }) }, {});
    expect(load('cert.pem')).toThrow('configuration: tls: must be an object {"cert": FILE, "key": FILE}');
    expect(load({ certificate: 'x' })).toThrow(
      'configuration: tls.certificate: unknown setting; known: cert, key',
    );
  });

  it('warns about plain text only when a listener is reachable beyond loopback', () => {
    const at = (host: string, port: number) => ({ host, port });
    expect(plaintextWarning({ http: at('127.0.0.1', 8080), mqtt: at('::1', 1883), tls: null })).toBeNull();
    expect(plaintextWarning({ http: at('localhost', 8080), mqtt: at('127.0.0.2', 1883) })).toBeNull();
    const tls = loadConfig({ 'tls-cert': pki.certFile, 'tls-key': pki.keyFile }, {}).tls;
    expect(plaintextWarning({ http: at('0.0.0.0', 8080), mqtt: at('0.0.0.0', 1883), tls })).toBeNull();
    expect(plaintextWarning({ http: at('127.0.0.1', 8080), mqtt: at('0.0.0.0', 1883), tls: null })).toBe(
      'TLS is off: the device MQTT listener on 0.0.0.0:1883 is reachable beyond this machine, so device ' +
        'configs and the API token travel unencrypted; set --tls-cert and --tls-key (SAG_TLS_CERT and ' +
        'SAG_TLS_KEY, or tls.cert and tls.key in the config file)',
    );
    expect(plaintextWarning({ http: at('::', 8080), mqtt: at('10.0.0.5', 1883), tls: null })).toContain(
      'the HTTP API (and MQTT over WebSocket) on [::]:8080 and the device MQTT listener on 10.0.0.5:1883 are reachable',
    );
  });
});
