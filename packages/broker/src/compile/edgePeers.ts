import type { EdgePeerConfig, EdgeRouteSetConfig } from '@opensag/proto';
import { type Block, blocksOverlap, parseBlock } from '../domain/cidr.js';
import type { Gateway, Topology } from '../domain/types.js';
import { type Claim, OverlapIndex } from './edgeOverlaps.js';
import { DestinationLists } from './edgeRouteSets.js';
import type { RouteEntry } from './types.js';

/** A gateway left off an access point's peers, and why, in words an operator can act on. */
export interface PeerOmission {
  gatewayId: string;
  reason: string;
}

/** What the compiler learns about each gateway from elsewhere. */
export interface PeerFacts {
  /** The WireGuard public key its device reported; undefined before it has. */
  tunnelKeyOf(gatewayId: string): string | undefined;
  /** The routes of its compiled config (what its tunnel may carry). */
  routesOf(gatewayId: string): readonly RouteEntry[];
}

/** The branch tunnels an access point terminates: the same for the first two access points. */
export interface EdgePeerList {
  /** Frozen, in gateway id order; each peer and route set is frozen too. */
  readonly peers: readonly EdgePeerConfig[];
  readonly routeSets: readonly EdgeRouteSetConfig[];
  readonly omitted: readonly PeerOmission[];
}

/** An active gateway with a device and blocks: a peer, unless left out. */
interface Candidate {
  id: string;
  gateway: Gateway;
  publicKey: string | undefined;
  routes: readonly RouteEntry[];
  blocks: Block[];
  allowedIps: readonly string[];
  /** Interned (DestinationLists); empty until the gateway has a key. */
  destinations: readonly string[];
  accepted: boolean;
  peer: EdgePeerConfig | undefined;
  seen: number;
}

const NO_KEY = 'its device has not reported a tunnel key yet';
const NOTHING: readonly string[] = Object.freeze([]);

function eligible(gateway: Gateway): boolean {
  return gateway.lifecycle === 'active' && !!gateway.serialNumber && gateway.privateCidrs.length > 0;
}

function byId(a: Candidate, b: Candidate): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/** Index of the first candidate whose id is not below `id`. */
function placeOf(sorted: Candidate[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle].id < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * An access point's peers, kept from one compile to the next: each update finds the gateways whose
 * peer inputs (lifecycle, device, blocks, key, routes) changed, rebuilds only their peers and
 * reuses the frozen rest, so one gateway's change costs about its share. A first update (and a
 * burst touching many gateways) builds everything from scratch; both give the same list.
 *
 * WireGuard gives a block to one peer only, so a gateway whose blocks overlap an earlier one's (by
 * id) or whose key repeats one is left out and named, rather than letting it steal the other
 * branch's replies.
 */
export class EdgePeers {
  private readonly candidates = new Map<string, Candidate>();
  private sorted: Candidate[] = [];
  private readonly overlaps = new OverlapIndex<Candidate>();
  private readonly lists = new DestinationLists();
  private sets = new Map<readonly string[], EdgeRouteSetConfig>();
  private result: EdgePeerList | undefined;
  /** A candidate's destinations changed in place since the last selection. */
  private reselect = false;
  /** Candidates by tunnel key, and those whose key another candidate also has (rare). */
  private readonly holders = new Map<string, Set<Candidate>>();
  private readonly sharing = new Set<Candidate>();
  private pass = 0;

  /**
   * `touched`: when given, the only gateways whose peer inputs may have changed since the last
   * update (a mutation's recompiled and written gateways); otherwise every gateway is checked.
   */
  update(topology: Topology, facts: PeerFacts, touched?: Iterable<string>): EdgePeerList {
    const changes =
      this.result && touched ? this.changesAmong(topology, facts, touched) : this.changesOf(topology, facts);
    if (this.result && changes.size === 0 && !this.reselect) return this.result;
    this.reselect = false;
    if (!this.result || changes.size > Math.max(64, this.candidates.size / 8)) this.rebuild(changes);
    else this.patch(changes);
    this.result = this.select();
    return this.result;
  }

  /** Candidates added, changed (the new value) or gone (null) since the last update. */
  private changesOf(topology: Topology, facts: PeerFacts): Map<string, Candidate | null> {
    const pass = ++this.pass;
    const changes = new Map<string, Candidate | null>();
    let seen = 0;
    for (const gateway of topology.gateways.values()) {
      if (!eligible(gateway)) continue;
      const old = this.candidates.get(gateway.id);
      if (old) {
        old.seen = pass;
        seen++;
      }
      this.check(gateway, old, facts, changes);
    }
    if (seen < this.candidates.size)
      for (const [id, candidate] of this.candidates) if (candidate.seen !== pass) changes.set(id, null);
    return changes;
  }

  private changesAmong(
    topology: Topology,
    facts: PeerFacts,
    touched: Iterable<string>,
  ): Map<string, Candidate | null> {
    const changes = new Map<string, Candidate | null>();
    for (const id of touched) {
      const gateway = topology.gateways.get(id);
      const old = this.candidates.get(id);
      if (gateway && eligible(gateway)) this.check(gateway, old, facts, changes);
      else if (old) changes.set(id, null);
    }
    return changes;
  }

  /** Notes an eligible gateway in `changes` when its peer inputs differ from its candidate's. */
  private check(
    gateway: Gateway,
    old: Candidate | undefined,
    facts: PeerFacts,
    changes: Map<string, Candidate | null>,
  ): void {
    const publicKey = facts.tunnelKeyOf(gateway.id);
    const routes = facts.routesOf(gateway.id);
    if (old && old.gateway === gateway && old.publicKey === publicKey && old.routes === routes) return;
    if (old && old.publicKey === publicKey && sameList(old.allowedIps, gateway.privateCidrs)) {
      // Same key and blocks: only what it reaches may differ. Its place among the overlaps stays,
      // and so does its peer unless its route set gets another number (see select).
      const destinations = publicKey ? this.lists.of(routes, gateway.privateCidrs) : NOTHING;
      if (old.destinations !== destinations) this.reselect = true;
      old.gateway = gateway;
      old.routes = routes;
      old.destinations = destinations;
    } else changes.set(gateway.id, this.candidateOf(gateway, publicKey, routes));
  }

  private candidateOf(
    gateway: Gateway,
    publicKey: string | undefined,
    routes: readonly RouteEntry[],
  ): Candidate {
    return {
      id: gateway.id,
      gateway,
      publicKey,
      routes,
      blocks: gateway.privateCidrs.map((text) => parseBlock(text, 'privateCidrs')),
      allowedIps: Object.freeze([...gateway.privateCidrs]),
      destinations: publicKey ? this.lists.of(routes, gateway.privateCidrs) : NOTHING,
      accepted: false,
      peer: undefined,
      seen: this.pass,
    };
  }

  private rebuild(changes: Map<string, Candidate | null>): void {
    for (const [id, next] of changes) {
      if (next) this.candidates.set(id, next);
      else this.candidates.delete(id);
    }
    this.sorted = [...this.candidates.values()].sort(byId);
    this.overlaps.rebuild(this.sorted.flatMap(claimsOf));
    this.holders.clear();
    this.sharing.clear();
    for (const candidate of this.sorted) this.hold(candidate, true);
  }

  /** Adds or removes a candidate among the holders of its key, keeping `sharing` exact. */
  private hold(candidate: Candidate, adding: boolean): void {
    const key = candidate.publicKey;
    if (!key) return;
    const set = this.holders.get(key) ?? new Set<Candidate>();
    this.holders.set(key, set);
    if (adding) set.add(candidate);
    else {
      set.delete(candidate);
      this.sharing.delete(candidate);
    }
    if (set.size === 0) this.holders.delete(key);
    for (const holder of set) {
      if (set.size > 1) this.sharing.add(holder);
      else this.sharing.delete(holder);
    }
  }

  private patch(changes: Map<string, Candidate | null>): void {
    const leaving = new Set<Candidate>();
    const joining: Claim<Candidate>[] = [];
    for (const [id, next] of changes) {
      const old = this.candidates.get(id);
      const place = placeOf(this.sorted, id);
      if (old) {
        leaving.add(old);
        this.hold(old, false);
      }
      if (next) {
        this.hold(next, true);
        this.candidates.set(id, next);
        // A changed gateway keeps its place; only one arriving or leaving moves the rest.
        if (old) this.sorted[place] = next;
        else this.sorted.splice(place, 0, next);
        joining.push(...claimsOf(next));
      } else {
        this.candidates.delete(id);
        this.sorted.splice(place, 1);
      }
    }
    this.overlaps.replace(leaving, joining);
  }

  /** Decides, in id order, who is a peer; numbers route sets by first use; reuses frozen peers. */
  private select(): EdgePeerList {
    const owners = new Map<string, string>();
    const omitted: PeerOmission[] = [];
    const peers: EdgePeerConfig[] = [];
    const sets = new Map<readonly string[], EdgeRouteSetConfig>();
    let set: EdgeRouteSetConfig | undefined;
    for (const candidate of this.sorted) {
      candidate.accepted = false;
      const reason = this.reasonToOmit(candidate, owners);
      if (reason) {
        omitted.push(Object.freeze({ gatewayId: candidate.id, reason }));
        continue;
      }
      candidate.accepted = true;
      if (this.sharing.size > 0 && this.sharing.has(candidate))
        owners.set(candidate.publicKey as string, candidate.id);
      // Members of one CEN mostly follow each other and share a set: skip the lookup for them.
      if (set?.destinations !== candidate.destinations) set = sets.get(candidate.destinations);
      if (!set) {
        const id = `routes-${sets.size + 1}`;
        const known = this.sets.get(candidate.destinations);
        set =
          known?.id === id ? known : Object.freeze({ id, destinations: candidate.destinations as string[] });
        sets.set(candidate.destinations, set);
      }
      if (candidate.peer?.routeSet !== set.id)
        candidate.peer = Object.freeze({
          gatewayId: candidate.id,
          publicKey: candidate.publicKey as string,
          allowedIps: candidate.allowedIps as string[],
          // All the edge lets in from its tunnel: where the gateway's own routes go.
          routeSet: set.id,
        });
      peers.push(candidate.peer);
    }
    this.sets = sets;
    this.lists.prune(() => new Set(this.sorted.map((candidate) => candidate.destinations)));
    return Object.freeze({
      peers: Object.freeze(peers),
      routeSets: Object.freeze([...sets.values()]),
      omitted: Object.freeze(omitted),
    });
  }

  /** Why a candidate is left out given the peers accepted before it (by id), or undefined. */
  private reasonToOmit(candidate: Candidate, owners: Map<string, string>): string | undefined {
    if (!candidate.publicKey) return NO_KEY;
    const sameKey = this.sharing.size > 0 ? owners.get(candidate.publicKey) : undefined;
    if (sameKey) return `its tunnel key is also the key of gateway ${sameKey}`;
    const partners = this.overlaps.partnersOf(candidate);
    if (!partners) return undefined;
    let clash: Candidate | undefined;
    for (const other of partners)
      if (other.id < candidate.id && other.accepted && (!clash || other.id < clash.id)) clash = other;
    if (!clash) return undefined;
    const block = clash.blocks.find((theirs) => candidate.blocks.some((mine) => blocksOverlap(theirs, mine)));
    return `its private block overlaps ${block?.text} of gateway ${clash.id} on the same access point`;
  }
}

function claimsOf(candidate: Candidate): Claim<Candidate>[] {
  return candidate.publicKey ? candidate.blocks.map((block) => ({ block, owner: candidate })) : [];
}
