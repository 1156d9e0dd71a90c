import { mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveApiToken, TOKEN_FILE } from './apiToken.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the operator token', () => {
  it('is generated once into the data directory (mode 0600) and read back on later starts', () => {
    dir = mkdtempSync(join(tmpdir(), 'sag-token-'));
    const first = resolveApiToken(dir, null);
    expect(first.generated).toBe(true);
    expect(first.token).toMatch(/^[\w-]{32}$/);
    expect(statSync(join(dir, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(resolveApiToken(dir, null)).toEqual({ token: first.token, generated: false });
  });

  it('rotates: a configured token replaces the stored one, and a deleted file gives a new token', () => {
    dir = mkdtempSync(join(tmpdir(), 'sag-token-'));
    const leaked = resolveApiToken(dir, null).token;
    expect(resolveApiToken(dir, 'a-fresh-token-from-the-secret-store').token).toBe(
      'a-fresh-token-from-the-secret-store',
    );
    unlinkSync(join(dir, TOKEN_FILE));
    const renewed = resolveApiToken(dir, null);
    expect(renewed.generated).toBe(true);
    expect(renewed.token).not.toBe(leaked);
  });

  it('puts a loosened file back to mode 0600 when it reads it', () => {
    dir = mkdtempSync(join(tmpdir(), 'sag-token-'));
    writeFileSync(join(dir, TOKEN_FILE), 'stored-token-of-the-operator\n', { mode: 0o644 });
    expect(resolveApiToken(dir, null).token).toBe('stored-token-of-the-operator');
    expect(statSync(join(dir, TOKEN_FILE)).mode & 0o777).toBe(0o600);
  });
});
