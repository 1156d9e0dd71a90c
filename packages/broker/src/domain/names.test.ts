import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../errors.js';
import { validateDescription, validateName } from './names.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

describe('validateName', () => {
  it.each(['Hangzhou branch', 'ab', `A${'b'.repeat(127)}`, 'x1.2_3-4', 'Z z'])('accepts %j', (name) => {
    expect(validateName(name, 'name')).toBe(name);
  });

  it.each([
    ['', 'shorter than 2'],
    ['a', 'shorter than 2'],
    [`a${'b'.repeat(128)}`, '129 characters'],
    ['1st branch', 'not an English letter'],
    [' Hangzhou', 'not an English letter'],
    ['_hidden', 'not an English letter'],
    ['Hangzhou/branch', '"/" at position 9'],
    ['Hangzhou#1', '"#" at position 9'],
    ['Zürich', '"ü" at position 2'],
    ['Hangzhou ', 'ends with a space'],
  ])('refuses %j with INVALID_NAME (%s)', (name, why) => {
    const err = refusal(() => validateName(name, 'gateway.name'));
    expect(err.code).toBe('INVALID_NAME');
    expect(err.message).toContain('gateway.name');
    expect(err.message).toContain(`"${name}"`);
    expect(err.message).toContain(why);
    expect(err.details).toEqual({ field: 'gateway.name', value: name });
  });

  it('refuses a value that is not a string', () => {
    expect(refusal(() => validateName(42 as unknown as string, 'name')).code).toBe('INVALID_NAME');
  });
});

describe('validateDescription', () => {
  it('accepts absent and short descriptions', () => {
    expect(validateDescription(undefined, 'description')).toBeUndefined();
    expect(validateDescription('Main office, 3rd floor #2', 'description')).toBe('Main office, 3rd floor #2');
  });

  it('refuses a description over 256 characters', () => {
    const err = refusal(() => validateDescription('x'.repeat(257), 'description'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('256');
  });
});
