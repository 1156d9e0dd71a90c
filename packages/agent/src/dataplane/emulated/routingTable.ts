import { parseCidr, parseIpv4, prefixMask } from '../../ipv4.js';
import type { RouteKind, RouteState } from '../dataplane.js';

export interface Route extends RouteState {
  prefix: number;
}

/** For two routes to the same block: a LAN subnet beats a private block, which beats the cloud. */
const PREFERENCE: Record<RouteKind, number> = { connected: 0, private: 1, tunnel: 2 };

/**
 * A longest-prefix-match table: one map per prefix length keyed by network number, searched from
 * /32 down, so a lookup costs at most 33 map probes whatever the table size.
 */
export class RoutingTable {
  // One map per prefix length in use, made on first use: most gateways hold a few routes of a few
  // lengths, and 10,000 simulated ones each build a table per apply.
  private readonly byPrefix: (Map<number, Route> | undefined)[] = new Array(33);

  /** Adds a route; throws on a malformed destination. Returns false when a preferred route exists. */
  add(route: RouteState): boolean {
    const block = parseCidr(route.destination);
    if (!block)
      throw new RangeError(`route destination "${route.destination}" is not a canonical CIDR block`);
    let level = this.byPrefix[block.prefix];
    if (!level) {
      level = new Map();
      this.byPrefix[block.prefix] = level;
    }
    const existing = level.get(block.network);
    if (existing && PREFERENCE[existing.kind] <= PREFERENCE[route.kind]) return false;
    level.set(block.network, { ...route, destination: block.text, prefix: block.prefix });
    return true;
  }

  remove(destination: string): boolean {
    const block = parseCidr(destination);
    return block ? (this.byPrefix[block.prefix]?.delete(block.network) ?? false) : false;
  }

  /** The most specific route covering `ip`, or null (also for a malformed address). */
  lookup(ip: string): Route | null {
    const address = parseIpv4(ip);
    if (address === null) return null;
    for (let prefix = 32; prefix >= 0; prefix--) {
      const level = this.byPrefix[prefix];
      if (!level || level.size === 0) continue;
      const route = level.get((address & prefixMask(prefix)) >>> 0);
      if (route) return route;
    }
    return null;
  }

  routes(): Route[] {
    const out: Route[] = [];
    for (const level of this.byPrefix) if (level) for (const route of level.values()) out.push(route);
    return out;
  }

  get size(): number {
    let size = 0;
    for (const level of this.byPrefix) size += level?.size ?? 0;
    return size;
  }
}
