import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireSetting, resolveSetting, SettingError, type SettingSources } from './settings.js';

const file = {
  path: '/etc/sag-agent.json',
  values: { broker: 'mqtt://file:1883', keepalive: 20, logLevel: 'warn' },
};

describe('settings precedence', () => {
  it('takes flags first, then SAG_* environment, then the config file, then the default', () => {
    const sources: SettingSources = {
      flags: { broker: 'mqtt://flag:1883' },
      env: { SAG_BROKER: 'mqtt://env:1883', SAG_KEEPALIVE: '45' },
      file,
    };
    expect(resolveSetting(sources, 'broker')).toBe('mqtt://flag:1883');
    expect(resolveSetting(sources, 'keepalive', 30)).toBe(45);
    expect(resolveSetting(sources, 'logLevel', 'info')).toBe('warn');
    expect(resolveSetting(sources, 'dataplane', 'emulated')).toBe('emulated');
  });

  it('treats an empty environment variable as unset', () => {
    const sources: SettingSources = { flags: {}, env: { SAG_BROKER: '' }, file };
    expect(resolveSetting(sources, 'broker')).toBe('mqtt://file:1883');
  });

  it('names the source of a bad value, even when a later source would have been fine', () => {
    const sources: SettingSources = { flags: {}, env: { SAG_ROLE: 'gateway' }, file: null };
    expect(() => resolveSetting(sources, 'role', 'branch')).toThrow(
      new SettingError('SAG_ROLE "gateway" is not accepted; accepted: branch, edge'),
    );
  });

  it('says how to give a required setting', () => {
    expect(() => requireSetting({ flags: {}, env: {}, file: null }, 'stateDir')).toThrow(
      '--state-dir is required (or set SAG_STATE_DIR, or stateDir in --config)',
    );
  });

  it('takes the data plane, role and listen address, refusing a listen port with no room for WireGuard', () => {
    const sources: SettingSources = {
      flags: { role: 'edge' },
      env: { SAG_DATAPLANE: 'linux', SAG_LISTEN: '192.0.2.1:7000' },
      file: null,
    };
    expect(resolveSetting(sources, 'role', 'branch')).toBe('edge');
    expect(resolveSetting(sources, 'dataplane', 'emulated')).toBe('linux');
    expect(resolveSetting(sources, 'listen')).toBe('192.0.2.1:7000');
    for (const bad of ['0.0.0.0:65535', '0.0.0.0:0', '0.0.0.0', 'edge a:1']) {
      const from = { flags: { listen: bad }, env: {}, file: null };
      expect(() => resolveSetting(from, 'listen')).toThrow(
        new SettingError(
          `--listen ${JSON.stringify(bad)} is not HOST:PORT with a port of 1-65534, such as 0.0.0.0:51820 (WireGuard takes PORT + 1)`,
        ),
      );
    }
  });
});

describe('the CA bundle (--ca)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opensag-ca-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const notPem = join(dir, 'ca.der');
  writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the PEM from the file named by flag, SAG_CA or the config file', () => {
    const pem = readFileSync(caFile, 'utf8');
    expect(resolveSetting({ flags: { ca: caFile }, env: {}, file: null }, 'ca')).toBe(pem);
    expect(resolveSetting({ flags: {}, env: { SAG_CA: caFile }, file: null }, 'ca')).toBe(pem);
    const fromFile = { path: '/etc/sag-agent.json', values: { ca: caFile } };
    expect(resolveSetting({ flags: {}, env: {}, file: fromFile }, 'ca')).toBe(pem);
    expect(resolveSetting({ flags: {}, env: {}, file: null }, 'ca')).toBeUndefined();
  });

  it('names a file it cannot read or that holds no PEM certificate', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => resolveSetting({ flags: { ca: missing }, env: {}, file: null }, 'ca')).toThrow(
      `--ca ${JSON.stringify(missing)} cannot be read: ENOENT`,
    );
    expect(() => resolveSetting({ flags: {}, env: { SAG_CA: notPem }, file: null }, 'ca')).toThrow(
      `SAG_CA ${JSON.stringify(notPem)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  });
});
