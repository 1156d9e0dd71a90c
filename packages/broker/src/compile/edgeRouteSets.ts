import { compareDestinations } from './routes.js';
import type { RouteEntry } from './types.js';

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Puts `destination` into the sorted, duplicate-free `list` at its place, unless already there. */
function insertSorted(list: string[], destination: string): void {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareDestinations(list[middle], destination) < 0) low = middle + 1;
    else high = middle;
  }
  if (list[low] !== destination) list.splice(low, 0, destination);
}

/**
 * What a peer may reach, as frozen lists interned by content: peers that reach the same
 * destinations hold the very same list, so route sets are found by identity and their canonical
 * text is computed once.
 */
export class DestinationLists {
  private readonly byKey = new Map<string, readonly string[]>();
  private last: readonly string[] | undefined;
  /** How many lists were live at the last pruning. */
  private kept = 0;

  /**
   * The gateway's routes together with its own blocks (which only lead back to it), so that all
   * members of one CEN, who learn each other's blocks, share a single list. The routes come
   * sorted by destination (a GatewayConfig's are), so only the few own blocks are placed by
   * comparison.
   */
  of(routes: readonly RouteEntry[], ownBlocks: readonly string[]): readonly string[] {
    const destinations: string[] = [];
    for (const route of routes)
      if (destinations[destinations.length - 1] !== route.destination) destinations.push(route.destination);
    for (const block of ownBlocks) insertSorted(destinations, block);
    // Members of one CEN mostly come one after another: compare with the last list before
    // building a key of thousands of characters.
    if (this.last && sameList(this.last, destinations)) return this.last;
    const key = destinations.join(' ');
    let list = this.byKey.get(key);
    if (!list) {
      list = Object.freeze(destinations);
      this.byKey.set(key, list);
    }
    this.last = list;
    return list;
  }

  /** Forgets the lists nobody holds any more, once there are many. */
  prune(liveLists: () => ReadonlySet<readonly string[]>): void {
    if (this.byKey.size <= 2 * this.kept + 64) return;
    const live = liveLists();
    this.kept = live.size;
    for (const [key, list] of this.byKey) if (!live.has(list)) this.byKey.delete(key);
    if (this.last && !live.has(this.last)) this.last = undefined;
  }
}
