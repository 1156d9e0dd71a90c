import { type Block, blocksOverlap } from '../domain/cidr.js';

/** A block one owner (a gateway on an access point) claims. */
export interface Claim<T> {
  block: Block;
  owner: T;
}

function byFirst<T>(a: Claim<T>, b: Claim<T>): number {
  return a.block.first - b.block.first;
}

/**
 * Which owners claim overlapping blocks. Built by one sweep over the blocks sorted by start, then
 * kept up to date as a few owners move: their claims leave and rejoin the sorted list, and only
 * their new blocks are looked up, so one gateway's change does not revisit ten thousand peers.
 */
export class OverlapIndex<T> {
  /** Sorted by block start. */
  private claims: Claim<T>[] = [];
  /** reach[i]: the highest block end among claims[0..i], to find blocks that start earlier. */
  private reach: number[] = [];
  private readonly partners = new Map<T, Set<T>>();

  /** The other owners with a block overlapping one of this owner's; undefined when none. */
  partnersOf(owner: T): ReadonlySet<T> | undefined {
    return this.partners.get(owner);
  }

  /** Starts over from these claims (start-up, a burst of new keys): one sweep, overlaps are rare. */
  rebuild(claims: Claim<T>[]): void {
    this.claims = claims.sort(byFirst);
    this.partners.clear();
    let open: Claim<T>[] = [];
    for (const claim of this.claims) {
      open = open.filter((o) => o.block.last >= claim.block.first);
      for (const other of open)
        if (other.owner !== claim.owner && blocksOverlap(other.block, claim.block))
          this.link(other.owner, claim.owner);
      open.push(claim);
    }
    this.computeReach();
  }

  /** Drops every claim of `leaving` and adds `joining`, linking the new claims to what they overlap. */
  replace(leaving: ReadonlySet<T>, joining: Claim<T>[]): void {
    for (const owner of leaving) this.unlink(owner);
    const kept = leaving.size === 0 ? this.claims : this.claims.filter((claim) => !leaving.has(claim.owner));
    this.claims = merge(kept, [...joining].sort(byFirst));
    this.computeReach();
    for (const claim of joining)
      for (const other of this.overlapping(claim.block))
        if (other.owner !== claim.owner) this.link(other.owner, claim.owner);
  }

  /** Claims whose block overlaps `block`: walks down from the last one starting before its end. */
  private overlapping(block: Block): Claim<T>[] {
    let low = 0;
    let high = this.claims.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.claims[middle].block.first <= block.last) low = middle + 1;
      else high = middle;
    }
    const found: Claim<T>[] = [];
    for (let i = low - 1; i >= 0 && this.reach[i] >= block.first; i--)
      if (this.claims[i].block.last >= block.first) found.push(this.claims[i]);
    return found;
  }

  private computeReach(): void {
    const reach = new Array<number>(this.claims.length);
    let highest = -1;
    for (let i = 0; i < this.claims.length; i++) {
      highest = Math.max(highest, this.claims[i].block.last);
      reach[i] = highest;
    }
    this.reach = reach;
  }

  private link(a: T, b: T): void {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      const set = this.partners.get(from);
      if (set) set.add(to);
      else this.partners.set(from, new Set([to]));
    }
  }

  private unlink(owner: T): void {
    const set = this.partners.get(owner);
    if (!set) return;
    for (const partner of set) {
      const back = this.partners.get(partner);
      back?.delete(owner);
      if (back?.size === 0) this.partners.delete(partner);
    }
    this.partners.delete(owner);
  }
}

/** Two lists sorted by block start, as one. */
function merge<T>(a: Claim<T>[], b: Claim<T>[]): Claim<T>[] {
  if (b.length === 0) return a;
  const merged: Claim<T>[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) merged[k++] = a[i].block.first <= b[j].block.first ? a[i++] : b[j++];
  while (i < a.length) merged[k++] = a[i++];
  while (j < b.length) merged[k++] = b[j++];
  return merged;
}
