import type { EdgePeerConfig } from '@opensag/proto';
import { rememberJson } from '../store/json.js';
import type { CompiledConfigRecord } from '../store/store.js';
import { type CanonicalParts, canonicalTextOf, PageHashes, piecesAround } from './edgeHash.js';
import { canonicalJson, configHash, nextConfigRecord } from './revision.js';
import type { GatewayConfig } from './types.js';

/** A page never grows past this many peers, whatever the ids. */
const MAX_PAGE = 512;

interface Page {
  peers: readonly EdgePeerConfig[];
  text: string;
}

/**
 * A page ends after about one peer in 128, chosen by id alone, so an insertion or removal changes
 * one page (pages that large keep the hash to a hundred updates for ten thousand peers).
 */
function endsPage(gatewayId: string): boolean {
  let hash = 0;
  for (let i = Math.max(0, gatewayId.length - 6); i < gatewayId.length; i++)
    hash = (hash * 31 + gatewayId.charCodeAt(i)) | 0;
  return (hash & 127) === 0;
}

function samePeers(page: Page, peers: readonly EdgePeerConfig[], from: number, to: number): boolean {
  if (page.peers.length !== to - from) return false;
  for (let i = from; i < to; i++) if (page.peers[i - from] !== peers[i]) return false;
  return true;
}

/**
 * Revisions of edge configs, whose ten thousand peers mostly stay the same objects from one
 * compile to the next. The hash is the one `configHash` gives (sha256 of the canonical JSON), fed
 * page by page: the canonical text of a page of peers is kept while its peers stay the same
 * objects, so a change rewrites one page and hashing resumes after the pages before it.
 */
export class EdgeRevisions {
  private pages = new Map<EdgePeerConfig, Page>();
  private lastPeers: readonly EdgePeerConfig[] | undefined;
  private lastTexts: string[] = [];
  private readonly hashes = new PageHashes();

  /**
   * The record to store for a freshly compiled edge config, or null when its content is unchanged.
   * A new record's config is frozen and its stored JSON (the canonical text) is assembled from the
   * kept pages, instead of serialising ten thousand peers again.
   */
  next(
    previous: CompiledConfigRecord | undefined,
    config: GatewayConfig,
    now: Date,
  ): CompiledConfigRecord | null {
    const parts = this.partsOf(config);
    const record = nextConfigRecord(previous, config, now, this.hashWith(config, parts));
    // A store that keeps the text as it is pays nothing; one that writes it out copies it once.
    if (record && parts) rememberJson(Object.freeze(config), canonicalTextOf(parts));
    return record;
  }

  /** configHash(config), computed from the kept page texts. */
  hashOf(config: GatewayConfig): string {
    return this.hashWith(config, this.partsOf(config));
  }

  private hashWith(config: GatewayConfig, parts: CanonicalParts | undefined): string {
    return parts ? this.hashes.hash(config.gatewayId, parts) : configHash(config);
  }

  /** The canonical text of an edge config in pieces: before the peers, their pages, after them. */
  private partsOf(config: GatewayConfig): CanonicalParts | undefined {
    if (!config.edge) return undefined;
    const around = piecesAround(config as unknown as Record<string, unknown>, ['edge', 'peers']);
    return around && { head: around.head, pages: this.pageTexts(config.edge.peers), tail: around.tail };
  }

  /** The canonical text of the peers, page by page (joined with commas, they make the array's). */
  private pageTexts(peers: readonly EdgePeerConfig[]): string[] {
    // Both access points share one frozen peer list: the second costs nothing.
    if (peers === this.lastPeers) return this.lastTexts;
    // Texts are kept only for frozen peers, which cannot change behind the cache's back.
    const frozen = Object.isFrozen(peers);
    const pages = new Map<EdgePeerConfig, Page>();
    const texts: string[] = [];
    let from = 0;
    for (let i = 0; i < peers.length; i++) {
      if (i + 1 < peers.length && i + 1 - from < MAX_PAGE && !endsPage(peers[i].gatewayId)) continue;
      const known = frozen ? this.pages.get(peers[from]) : undefined;
      const page =
        known && samePeers(known, peers, from, i + 1)
          ? known
          : {
              peers: peers.slice(from, i + 1),
              text: peers
                .slice(from, i + 1)
                .map(canonicalJson)
                .join(','),
            };
      pages.set(peers[from], page);
      texts.push(page.text);
      from = i + 1;
    }
    this.pages = frozen ? pages : new Map();
    this.lastPeers = frozen ? peers : undefined;
    this.lastTexts = texts;
    return texts;
  }
}
