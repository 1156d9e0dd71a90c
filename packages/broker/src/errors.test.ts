import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isSagError, SagError } from './errors.js';

describe('error codes', () => {
  it('are each documented in docs/errors.md with their status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(doc, `docs/errors.md lacks ${code}`).toContain(`| \`${code}\` | ${status} |`);
    }
  });

  it('are recognised by shape, so a copy of the module from another package still matches', () => {
    const error = new SagError('CIDR_CONFLICT', 'overlap', { cidr: '172.16.0.0/12' });
    expect(error.status).toBe(409);
    expect(isSagError(error)).toBe(true);
    expect(isSagError({ name: 'SagError', code: 'CIDR_CONFLICT', message: 'x' })).toBe(true);
    expect(isSagError({ name: 'SagError', code: 'NO_SUCH_CODE' })).toBe(false);
    expect(isSagError(new Error('plain'))).toBe(false);
  });
});
