import { DEFAULT_ENABLED_AREAS, DEFAULT_QUOTAS } from '../domain/catalogue.js';
import type { DomainSettings, OperationContext, Quotas } from '../domain/types.js';

export interface FixedContextOptions {
  now?: Date;
  enabledAreas?: string[];
  quotas?: Partial<Quotas>;
}

/**
 * A deterministic OperationContext: a settable clock and ids counted per prefix (sag-1, sag-2,
 * ccn-1, ...). Tests and scripted scenarios use it to get reproducible changesets.
 */
export function fixedContext(options: FixedContextOptions = {}): OperationContext {
  const counters = new Map<string, number>();
  const settings: DomainSettings = {
    enabledAreas: [...(options.enabledAreas ?? DEFAULT_ENABLED_AREAS)],
    quotas: { ...DEFAULT_QUOTAS, ...options.quotas },
  };
  return {
    now: options.now ?? new Date('2025-01-15T08:00:00.000Z'),
    newId(prefix) {
      const next = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, next);
      return `${prefix}-${next}`;
    },
    settings,
  };
}
