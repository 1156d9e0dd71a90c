import { createHash } from 'node:crypto';
import type { CompiledConfigRecord } from '../store/store.js';
import type { GatewayConfig } from './types.js';

/** Canonical text of frozen values, which cannot change: route entries shared by many configs. */
const frozenText = new WeakMap<object, string>();

/**
 * JSON with object keys sorted and undefined members dropped, so equal content always gives equal
 * text whatever order the fields were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const known = frozenText.get(value);
  if (known !== undefined) return known;
  let text: string;
  if (Array.isArray(value)) {
    text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i] ?? null);
    text += ']';
  } else {
    const record = value as Record<string, unknown>;
    text = '{';
    for (const key of Object.keys(record).sort()) {
      const member = record[key];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    }
    text += '}';
  }
  if (Object.isFrozen(value)) frozenText.set(value, text);
  return text;
}

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
