import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

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
