import { describe, expect, it } from 'vitest';
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
    const sources: SettingSources = { flags: {}, env: { SAG_ROLE: 'edge' }, file: null };
    expect(() => resolveSetting(sources, 'role', 'branch')).toThrow(
      new SettingError('SAG_ROLE "edge" is not accepted; accepted: branch'),
    );
  });

  it('says how to give a required setting', () => {
    expect(() => requireSetting({ flags: {}, env: {}, file: null }, 'stateDir')).toThrow(
      '--state-dir is required (or set SAG_STATE_DIR, or stateDir in --config)',
    );
  });
});
