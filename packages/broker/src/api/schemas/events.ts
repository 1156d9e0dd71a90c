import { type Static, Type } from '@sinclair/typebox';
import { Timestamp } from './common.js';

const Category = Type.Union([Type.Literal('audit'), Type.Literal('device')]);

export const EventQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    resourceId: Type.Optional(
      Type.String({ maxLength: 128, description: 'Only events about this resource' }),
    ),
    category: Type.Optional(Category),
  },
  { additionalProperties: false },
);
export type EventQuery = Static<typeof EventQuery>;

export const Event = Type.Object({
  id: Type.Integer({ description: 'Increases with every event' }),
  at: Timestamp,
  category: Category,
  action: Type.String({ examples: ['gateway.create', 'device.online'] }),
  actor: Type.String({ examples: ['operator@127.0.0.1'] }),
  resourceType: Type.String(),
  resourceId: Type.String(),
  before: Type.Optional(Type.Unknown()),
  after: Type.Optional(Type.Unknown()),
  details: Type.Optional(Type.Unknown()),
});
export type Event = Static<typeof Event>;
