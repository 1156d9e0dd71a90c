import { SagError } from './errors.js';
import type { Page } from './store/store.js';

export const MAX_PAGE = 500;
export const DEFAULT_PAGE = 50;

interface Listed {
  id: string;
  createdAt: string;
}

function encodeCursor(entity: Listed): string {
  return Buffer.from(`${entity.createdAt}|${entity.id}`).toString('base64url');
}

function decodeCursor(cursor: string): Listed {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!createdAt || !id) {
    throw new SagError('VALIDATION', 'querystring/cursor is not a cursor this API returned');
  }
  return { createdAt, id };
}

/**
 * One page of `entities`, which come in creation order (the order the store keeps). The cursor
 * names the last entity served; if that one was deleted meanwhile, the page resumes after the
 * last entity created no later than it.
 */
export function pageOf<T extends Listed>(
  entities: Iterable<T>,
  page: { limit?: number; cursor?: string },
  filter?: (entity: T) => boolean,
): Page<T> {
  const limit = Math.min(Math.max(page.limit ?? DEFAULT_PAGE, 1), MAX_PAGE);
  const listed = filter ? [...entities].filter(filter) : [...entities];
  let start = 0;
  if (page.cursor) {
    const after = decodeCursor(page.cursor);
    const index = listed.findIndex((entity) => entity.id === after.id);
    start = index >= 0 ? index + 1 : listed.findIndex((entity) => entity.createdAt > after.createdAt);
    if (start < 0) start = listed.length;
  }
  const items = listed.slice(start, start + limit);
  const more = start + limit < listed.length;
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]) : null };
}
