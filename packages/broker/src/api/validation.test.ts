import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { IdParams, PageQuery } from './schemas/common.js';
import { needsConversion, validatorCompiler } from './validation.js';

const compile = (schema: Parameters<typeof validatorCompiler>[0]['schema'], httpPart: string) =>
  validatorCompiler({ schema, httpPart, method: 'GET', url: '/x' });

describe('needsConversion', () => {
  it('is false for text-only schemas without defaults, true for numbers, booleans and defaults', () => {
    expect(needsConversion(IdParams)).toBe(false);
    expect(needsConversion(Type.Object({ ccnId: Type.Optional(Type.String()) }))).toBe(false);
    expect(needsConversion(Type.Object({ mode: Type.Union([Type.Literal('a'), Type.Literal('b')]) }))).toBe(
      false,
    );
    expect(needsConversion(PageQuery)).toBe(true);
    expect(needsConversion(Type.Object({ all: Type.Boolean() }))).toBe(true);
    expect(needsConversion(Type.Object({ name: Type.String({ default: 'x' }) }))).toBe(true);
  });
});

describe('validatorCompiler', () => {
  it('checks text-only path parameters as they come', () => {
    const validate = compile(IdParams, 'params');
    expect(validate({ id: 'sag-1' })).toEqual({ value: { id: 'sag-1' } });
    expect(validate({ id: 'x'.repeat(200) })).toMatchObject({
      error: [{ instancePath: '/id', message: 'must NOT have more than 128 characters' }],
    });
  });

  it('still converts query strings with numbers and fills defaults', () => {
    const validate = compile(PageQuery, 'querystring');
    expect(validate({ limit: '20' })).toEqual({ value: { limit: 20 } });
    expect(validate({})).toEqual({ value: { limit: 50 } });
    expect(validate({ limit: 'many' })).toMatchObject({ error: [{ instancePath: '/limit' }] });
  });

  it('never converts bodies', () => {
    const validate = compile(Type.Object({ limit: Type.Integer() }), 'body');
    expect(validate({ limit: '20' })).toMatchObject({
      error: [{ instancePath: '/limit', message: 'must be integer' }],
    });
  });
});
