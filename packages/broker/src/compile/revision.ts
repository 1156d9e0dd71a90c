import { createHash } from 'node:crypto';
import type { CompiledConfigRecord } from '../store/store.js';
import type { GatewayConfig } from './types.js';

/**
 * JSON with object keys sorted and undefined members dropped, so equal content always gives equal
 * text whatever order the fields were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

/** The content hash devices echo back in their acks: sha256 hex of the canonical JSON. */
export function configHash(config: GatewayConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/**
 * The record to store and push for a freshly compiled config, or null when its content is the
 * same as the previous one: revisions only move when there is something new to apply.
 */
export function nextConfigRecord(
  previous: CompiledConfigRecord | undefined,
  config: GatewayConfig,
  now: Date,
): CompiledConfigRecord | null {
  const hash = configHash(config);
  if (previous && previous.hash === hash) return null;
  return {
    gatewayId: config.gatewayId,
    revision: (previous?.revision ?? 0) + 1,
    hash,
    config,
    compiledAt: now.toISOString(),
  };
}
