import { createHash } from 'node:crypto';
import { canonicalJson } from '@opensag/proto';
import type { CompiledConfigRecord } from '../store/store.js';
import type { GatewayConfig } from './types.js';

export { canonicalJson };

/** The content hash devices echo back in their acks: sha256 hex of the canonical JSON. */
export function configHash(config: GatewayConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * The record to store and push for a freshly compiled config, or null when its content is the
 * same as the previous one: revisions only move when there is something new to apply. `hash` is
 * `configHash(config)`, given by a caller that computed it more cheaply.
 */
export function nextConfigRecord(
  previous: CompiledConfigRecord | undefined,
  config: GatewayConfig,
  now: Date,
  hash: string = configHash(config),
): CompiledConfigRecord | null {
  if (previous && previous.hash === hash) return null;
  return {
    gatewayId: config.gatewayId,
    revision: (previous?.revision ?? 0) + 1,
    hash,
    config,
    compiledAt: now.toISOString(),
  };
}
