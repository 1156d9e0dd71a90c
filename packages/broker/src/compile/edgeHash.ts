import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from './revision.js';

/**
 * The canonical text of an edge config in pieces: before the peers, their pages, after them.
 * Joined, they are canonicalJson(config); no piece is large, so none is ever copied whole.
 */
export interface CanonicalParts {
  head: string[];
  pages: string[];
  tail: string[];
}

/** Arrays longer than this are opened element by element (route sets, VPCs...). */
const OPEN_ARRAYS_FROM = 16;

/**
 * canonicalJson(value) as pieces, leaving out the member at `hole` (a path of keys): the pieces
 * before it and after it, or undefined when there is no such member. Same rules as
 * canonicalJson: keys sorted, undefined members dropped.
 */
export function piecesAround(
  value: Record<string, unknown>,
  hole: readonly string[],
): { head: string[]; tail: string[] } | undefined {
  const pieces: string[] = [];
  const at = open(value, hole, pieces);
  return at < 0 ? undefined : { head: pieces.slice(0, at), tail: pieces.slice(at) };
}

/** Appends the pieces of `record` to `out`; returns where the hole is in `out`, or -1. */
function open(record: Record<string, unknown>, hole: readonly string[], out: string[]): number {
  out.push('{');
  let first = true;
  let at = -1;
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    out.push(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (hole.length > 0 && key === hole[0]) {
      if (hole.length === 1) at = out.length;
      else if (member !== null && typeof member === 'object' && !Array.isArray(member))
        at = open(member as Record<string, unknown>, hole.slice(1), out);
      else return -1;
    } else if (Array.isArray(member) && member.length > OPEN_ARRAYS_FROM) {
      out.push('[');
      for (let i = 0; i < member.length; i++)
        out.push(i === 0 ? canonicalJson(member[i] ?? null) : `,${canonicalJson(member[i] ?? null)}`);
      out.push(']');
    } else out.push(canonicalJson(member));
  }
  out.push('}');
  return at;
}

function samePieces(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Chain {
  head: string[];
  pages: string[];
  /** states[k]: the sha256 state after the head, `[` and the first k pages. */
  states: Hash[];
}

/**
 * sha256 of a canonical text given in pieces, one chain per config: the state after each page is
 * kept, so when the head and the first pages are the same texts as last time, hashing resumes
 * after them instead of running over every page again (sha256 reads its input in order).
 */
export class PageHashes {
  private readonly chains = new Map<string, Chain>();

  hash(key: string, { head, pages, tail }: CanonicalParts): string {
    const chain = this.chains.get(key);
    const resumable = chain !== undefined && samePieces(chain.head, head);
    let same = 0;
    if (resumable)
      while (same < pages.length && same < chain.pages.length && chain.pages[same] === pages[same]) same++;
    let hash: Hash;
    let states: Hash[];
    if (resumable) {
      states = chain.states.slice(0, same + 1);
      hash = states[same].copy();
    } else {
      hash = createHash('sha256');
      for (const piece of head) hash.update(piece);
      hash.update('[');
      states = [hash.copy()];
    }
    for (let i = same; i < pages.length; i++) {
      if (i > 0) hash.update(',');
      hash.update(pages[i]);
      states.push(hash.copy());
    }
    this.chains.set(key, { head, pages, states });
    hash.update(']');
    for (const piece of tail) hash.update(piece);
    return hash.digest('hex');
  }
}

/** The same text in one string, strung together from the pieces (no flat copy is made). */
export function canonicalTextOf({ head, pages, tail }: CanonicalParts): string {
  let text = '';
  for (const piece of head) text += piece;
  text += '[';
  for (let i = 0; i < pages.length; i++) text += i === 0 ? pages[i] : `,${pages[i]}`;
  text += ']';
  for (const piece of tail) text += piece;
  return text;
}
