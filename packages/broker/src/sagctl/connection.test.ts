import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from './args.js';
import { DEFAULT_URL, resolveConnection } from './connection.js';

const home = mkdtempSync(join(tmpdir(), 'sagctl-connection-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(home, name);
  writeFileSync(path, content);
  return path;
}

const config = file('sagctl.json', JSON.stringify({ url: 'http://file:1', token: 'file-token' }));

describe('resolveConnection', () => {
  it('takes each setting from flags, then the environment, then the config file, then the default', () => {
    const env = { SAG_URL: 'http://env:2', SAG_API_TOKEN: 'env-token', SAG_CONFIG: config };
    expect(
      resolveConnection({ flags: { url: 'http://flag:3', token: 'flag-token' }, env, homeDir: home }),
    ).toEqual({
      url: 'http://flag:3',
      token: 'flag-token',
    });
    expect(resolveConnection({ flags: {}, env, homeDir: home })).toEqual({
      url: 'http://env:2',
      token: 'env-token',
    });
    expect(resolveConnection({ flags: {}, env: { SAG_CONFIG: config }, homeDir: home })).toEqual({
      url: 'http://file:1',
      token: 'file-token',
    });
    expect(resolveConnection({ flags: {}, env: {}, homeDir: home })).toEqual({
      url: DEFAULT_URL,
      token: null,
    });
  });

  it('treats an empty environment variable as unset', () => {
    const env = { SAG_URL: '', SAG_API_TOKEN: '', SAG_CONFIG: config };
    expect(resolveConnection({ flags: {}, env, homeDir: home })).toEqual({
      url: 'http://file:1',
      token: 'file-token',
    });
  });

  it('reads --token-file (trimmed) above the environment, and --config above SAG_CONFIG', () => {
    const tokenFile = file('api-token', 'from-token-file\n');
    const other = file('other.json', JSON.stringify({ url: 'http://other:4' }));
    const connection = resolveConnection({
      flags: { tokenFile, config: other },
      env: { SAG_API_TOKEN: 'env-token', SAG_CONFIG: config },
      homeDir: home,
    });
    expect(connection).toEqual({ url: 'http://other:4', token: 'from-token-file' });
  });

  it('finds the default config file under ~/.config/opensag and resolves its tokenFile beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagctl-home-'));
    const folder = join(dir, '.config', 'opensag');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'token'), 'beside\n');
    writeFileSync(
      join(folder, 'sagctl.json'),
      JSON.stringify({ url: 'https://cloud.example.net/', tokenFile: 'token' }),
    );
    expect(resolveConnection({ flags: {}, env: {}, homeDir: dir })).toEqual({
      url: 'https://cloud.example.net',
      token: 'beside',
    });
    rmSync(dir, { recursive: true });
  });

  it('drops a trailing slash or /v1 from the URL', () => {
    const env = {};
    expect(resolveConnection({ flags: { url: 'http://h:8080/v1/' }, env, homeDir: home }).url).toBe(
      'http://h:8080',
    );
  });

  it.each([
    [{ url: 'not a url' }, {}, 'url "not a url" is not a URL'],
    [{ url: 'ftp://h' }, {}, 'must start with http:// or https://'],
    [{ token: 't', tokenFile: 'f' }, {}, 'give --token or --token-file, not both'],
    [{ tokenFile: join(home, 'missing') }, {}, '--token-file'],
    [{ config: join(home, 'missing.json') }, {}, 'config file'],
    [{}, { SAG_CONFIG: file('bad.json', '{') }, 'not JSON'],
    [
      {},
      { SAG_CONFIG: file('typo.json', '{"tokn": "x"}') },
      'unknown setting "tokn" (known: url, token, tokenFile)',
    ],
    [{}, { SAG_CONFIG: file('number.json', '{"url": 8080}') }, 'url must be a non-empty string'],
    [{ tokenFile: file('empty', '\n') }, {}, 'the file is empty'],
  ])('refuses %j %j as bad usage naming the setting', (flags, env, message) => {
    expect(() => resolveConnection({ flags, env, homeDir: home })).toThrow(UsageError);
    expect(() => resolveConnection({ flags, env, homeDir: home })).toThrow(message);
  });
});
