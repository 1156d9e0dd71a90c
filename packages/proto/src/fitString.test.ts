import { describe, expect, it } from 'vitest';
import { fitString, LIMITS } from './validation.js';

describe('fitString', () => {
  const max = LIMITS.maxStringLength;

  it('leaves a string that fits as it is', () => {
    expect(fitString('x'.repeat(max), ' (note)')).toBe('x'.repeat(max));
  });

  it('cuts a longer one to exactly the limit, ending with … and the note', () => {
    const cut = fitString(`${'x'.repeat(max)}y`, ' (note)');
    expect(cut).toHaveLength(max);
    expect(cut.endsWith('x… (note)')).toBe(true);
    expect(fitString('z'.repeat(max * 2))).toBe(`${'z'.repeat(max - 1)}…`);
  });
});
