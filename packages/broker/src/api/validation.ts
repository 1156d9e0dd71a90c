import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';

/** One schema violation, in the shape Fastify expects from a validator (`instancePath` + `message`). */
export interface FieldError {
  instancePath: string;
  message: string;
}

/**
 * Validates with TypeBox's compiler. Bodies are checked as sent (a string is never taken for a
 * number); query strings and path parameters are converted first, since they arrive as text.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema);
  // Text-only parts without defaults (most path parameters) are checked as they come: converting
  // walks the schema on every request for nothing.
  const convert = httpPart !== 'body' && needsConversion(schema);
  return (input: unknown) => {
    const value = convert ? Value.Convert(schema, Value.Default(schema, input)) : input;
    if (check.Check(value)) return { value };
    return { error: firstErrors(check.Errors(value)) as unknown as Error };
  };
};

/** Whether a schema has a default or a non-string leaf, which text input must be converted to. */
export function needsConversion(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(needsConversion);
  if (schema === null || typeof schema !== 'object') return false;
  const node = schema as Record<string, unknown>;
  if ('default' in node) return true;
  if (node.type !== undefined && node.type !== 'string' && node.type !== 'object') return true;
  return Object.values(node).some((value) => typeof value === 'object' && needsConversion(value));
}

// A handful is enough to act on; a 1000-element bad array should not produce 1000 lines.
const MAX_ERRORS = 5;

function firstErrors(errors: Iterable<ValueError>): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    // TypeBox reports a missing property twice (required, then its type); keep the first.
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    out.push({ instancePath: error.path, message: describe(error) });
    if (out.length === MAX_ERRORS) break;
  }
  return out;
}

/** Words in the style of the JSON-Schema world ("must be integer"), naming limits where there are any. */
function describe(error: ValueError): string {
  const s = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not an allowed property';
    case ValueErrorType.ObjectMinProperties:
      return `must have at least ${s.minProperties} propert${s.minProperties === 1 ? 'y' : 'ies'}`;
    case ValueErrorType.Integer:
      return 'must be integer';
    case ValueErrorType.Number:
      return 'must be number';
    case ValueErrorType.String:
      return 'must be string';
    case ValueErrorType.Boolean:
      return 'must be boolean';
    case ValueErrorType.Object:
      return 'must be object';
    case ValueErrorType.Array:
      return 'must be array';
    case ValueErrorType.Null:
      return 'must be null';
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be >= ${s.minimum}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be <= ${s.maximum}`;
    case ValueErrorType.StringMinLength:
      return `must NOT have fewer than ${s.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must NOT have more than ${s.maxLength} characters`;
    case ValueErrorType.ArrayMinItems:
      return `must NOT have fewer than ${s.minItems} items`;
    case ValueErrorType.ArrayMaxItems:
      return `must NOT have more than ${s.maxItems} items`;
    case ValueErrorType.StringPattern:
      return `must match pattern "${s.pattern}"`;
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.Union:
      return describeUnion(s);
    default:
      return error.message.charAt(0).toLowerCase() + error.message.slice(1);
  }
}

function describeUnion(schema: Record<string, unknown>): string {
  const variants = (schema.anyOf ?? []) as Record<string, unknown>[];
  if (variants.length > 0 && variants.every((v) => 'const' in v)) {
    return `must be one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}`;
  }
  if (variants.length > 0 && variants.every((v) => v.type === 'object')) {
    const shapes = variants.map((v) => `{${Object.keys((v.properties ?? {}) as object).join(', ')}}`);
    return `must be one of ${shapes.join(' or ')}`;
  }
  return 'does not match any allowed type';
}
