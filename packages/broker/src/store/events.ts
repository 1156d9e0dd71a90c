import { SagError } from '../errors.js';
import { decodeJson, encodeJson } from './json.js';
import type { EventQuery, Mutation, NewEvent, Page, StoredEvent } from './store.js';

/** Bounds of `EventQuery.limit`, the same for every store. */
export const MIN_EVENT_PAGE = 1;
export const MAX_EVENT_PAGE = 500;

/** Event ids start at 1, so this stands for "before everything" on the first page. */
export const NO_CURSOR_BEFORE_ID = Number.MAX_SAFE_INTEGER;

/** The cursor is the id of the last event of a page, base64url so clients treat it as opaque. */
export function encodeEventCursor(lastId: number): string {
  return Buffer.from(String(lastId), 'utf8').toString('base64url');
}

/** The id the next page starts below; throws VALIDATION for anything not made by encodeEventCursor. */
export function decodeEventCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id) || encodeEventCursor(id) !== cursor) {
    throw new SagError('VALIDATION', `cursor "${cursor}" is not a cursor from a previous page of events`, {
      field: 'cursor',
    });
  }
  return id;
}

/** Checks the limit and resolves the cursor, so both stores read a query the same way. */
export function readEventQuery(query: EventQuery): { limit: number; beforeId: number } {
  const { limit } = query;
  if (!Number.isInteger(limit) || limit < MIN_EVENT_PAGE || limit > MAX_EVENT_PAGE) {
    throw new SagError(
      'VALIDATION',
      `limit must be an integer from ${MIN_EVENT_PAGE} to ${MAX_EVENT_PAGE}, got ${String(limit)}`,
      { field: 'limit', value: limit },
    );
  }
  const beforeId = query.cursor === undefined ? NO_CURSOR_BEFORE_ID : decodeEventCursor(query.cursor);
  return { limit, beforeId };
}

/**
 * Builds a page from up to `limit + 1` events, newest first: the extra one only tells whether
 * another page exists.
 */
export function eventPage(events: StoredEvent[], limit: number): Page<StoredEvent> {
  const items = events.slice(0, limit);
  const nextCursor = events.length > limit ? encodeEventCursor(items[items.length - 1].id) : null;
  return { items, nextCursor };
}

/** An event as both stores keep it: the columns of the `events` table. */
export interface EventRow {
  id: number;
  at: string;
  category: NewEvent['category'];
  action: string;
  actor: string;
  resource_type: string;
  resource_id: string;
  before: string | null;
  after: string | null;
  details: string | null;
}

/** Encodes an event for writing; the id comes from the store. */
export function toEventRow(event: NewEvent): Omit<EventRow, 'id'> {
  return {
    at: event.at.toISOString(),
    category: event.category,
    action: event.action,
    actor: event.actor,
    resource_type: event.resourceType,
    resource_id: event.resourceId,
    before: encodeJson(event.before),
    after: encodeJson(event.after),
    details: encodeJson(event.details),
  };
}

/**
 * Decodes a stored event; `before`/`after`/`details` stay absent when none was recorded. `decode`
 * reads their JSON (the prototype-safe decoder unless the caller knows a cheaper one will do).
 */
export function fromEventRow(row: EventRow, decode: (text: string) => unknown = decodeJson): StoredEvent {
  const event: StoredEvent = {
    id: row.id,
    at: row.at,
    category: row.category,
    action: row.action,
    actor: row.actor,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
  };
  if (row.before !== null) event.before = decode(row.before);
  if (row.after !== null) event.after = decode(row.after);
  if (row.details !== null) event.details = decode(row.details);
  return event;
}

/** The audit event a mutation writes along with its changes. */
export function auditEvent(mutation: Mutation): NewEvent {
  const { audit } = mutation.changeset;
  return {
    at: mutation.at,
    category: 'audit',
    action: audit.action,
    actor: mutation.actor,
    resourceType: audit.resourceType,
    resourceId: audit.resourceId,
    before: audit.before,
    after: audit.after,
  };
}
