import { describe, expect, it } from 'vitest';
import { isProtocolError, ProtocolError } from './errors.js';

describe('ProtocolError', () => {
  it('is an Error carrying its code and the field it blames', () => {
    const error = new ProtocolError('INVALID_FIELD', 'Hello field role is "router"', 'role');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProtocolError');
    expect(error.code).toBe('INVALID_FIELD');
    expect(error.field).toBe('role');
    expect(error.stack).toContain('ProtocolError');
  });
});

describe('isProtocolError', () => {
  it('recognises a ProtocolError, and one from another copy of the package by its shape', () => {
    expect(isProtocolError(new ProtocolError('MALFORMED', 'bad'))).toBe(true);
    expect(isProtocolError({ name: 'ProtocolError', code: 'TOO_LARGE', message: 'big' })).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('x')],
    ['an unknown code', { name: 'ProtocolError', code: 'NOPE', message: 'x' }],
    ['another name', { name: 'SagError', code: 'MALFORMED', message: 'x' }],
    ['no message', { name: 'ProtocolError', code: 'MALFORMED' }],
    ['null', null],
    ['a string', 'ProtocolError'],
  ])('rejects %s', (_, value) => {
    expect(isProtocolError(value)).toBe(false);
  });
});
