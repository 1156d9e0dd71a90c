import { SagError } from '../errors.js';
import type { DomainSettings, Quotas } from './types.js';

/**
 * Refuses a change that would take `count` past the configured limit. `what` names the counted
 * things in the message, e.g. "CCNs" or "rules in ACL acl-1 (Office)".
 */
export function assertQuota(
  settings: DomainSettings,
  quota: keyof Quotas,
  count: number,
  what: string,
): void {
  const limit = settings.quotas[quota];
  if (count > limit) {
    throw new SagError(
      'QUOTA_EXCEEDED',
      `quota ${quota} exceeded: at most ${limit} ${what} allowed (this change would make ${count}); remove some or raise the quota in the broker configuration`,
      { quota, limit },
    );
  }
}
