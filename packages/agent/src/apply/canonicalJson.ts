import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: the one definition broker and agent share. */
export { canonicalJson } from '@opensag/proto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
