import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode } from '../../errors.js';

/** `T | null`, written as JSON Schema `anyOf` so OpenAPI 3.1 and the serializer both understand it. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Timestamp = Type.String({
  description: 'RFC 3339 time (UTC)',
  examples: ['2025-01-31T08:00:00.000Z'],
});
export const Name = Type.String({
  maxLength: 1024,
  description:
    '2-128 characters: an English letter first, then letters, digits, spaces, ".", "_" or "-"; no leading/trailing space',
  examples: ['Hangzhou branch'],
});
export const Description = Type.String({ maxLength: 256 });
export const Cidr = Type.String({
  maxLength: 64,
  description: 'IPv4 CIDR block',
  examples: ['172.16.0.0/16'],
});
export const Ipv4 = Type.String({ maxLength: 64, description: 'IPv4 address', examples: ['172.16.0.10'] });
export const Area = Type.String({ maxLength: 64, examples: ['china-mainland'] });
export const Region = Type.String({ maxLength: 64, examples: ['cn-shanghai'] });

export const Policy = Type.Union([Type.Literal('accept'), Type.Literal('drop')]);
export const Protocol = Type.Union([
  Type.Literal('tcp'),
  Type.Literal('udp'),
  Type.Literal('icmp'),
  Type.Literal('all'),
]);
export const PortRange = Type.String({
  maxLength: 16,
  description: '`a/b` (inclusive), or `-1/-1` for any port',
  examples: ['22/22', '-1/-1'],
});

export const IdParams = Type.Object({ id: Type.String({ maxLength: 128 }) });
export type IdParams = Static<typeof IdParams>;

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

/** A page of a list; `nextCursor` is null on the last page. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      // A string enum rather than a union of literals: the same document, far cheaper to serialize.
      code: Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERROR_CODES) }),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  {
    $id: 'ErrorBody',
    description: 'Every error answer. `code` is stable; `message` names the field or resource at fault.',
  },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** The error body by reference: one OpenAPI component instead of a copy per route (the server adds it). */
const ErrorBodyRef = Type.Unsafe<ErrorBody>(Type.Ref('ErrorBody'));

/** Response schemas of a route: its success answer plus the common error body. */
export function responses<S extends Record<number, TSchema>>(success: S) {
  return { ...success, '4xx': ErrorBodyRef, '5xx': ErrorBodyRef };
}

export const NoContent = Type.Null({ description: 'Done; no body' });
