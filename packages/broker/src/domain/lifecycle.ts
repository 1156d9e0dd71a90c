import type { Gateway } from './types.js';

/**
 * Adds calendar months in UTC. A day that does not exist in the target month falls back to that
 * month's last day (Jan 31 + 1 month = Feb 28/29), as subscription billing does.
 */
export function addMonthsUtc(date: Date, months: number): Date {
  const target = new Date(date.getTime());
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return target;
}

/** An expired gateway is locked: its device stays connected but receives no new config. */
export function isLocked(gateway: Pick<Gateway, 'expiresAt'>, now: Date): boolean {
  return gateway.expiresAt !== null && now.getTime() >= Date.parse(gateway.expiresAt);
}

/** A renewal extends from the current expiry, or from now when the gateway already expired. */
export function renewedExpiry(expiresAt: string | null, now: Date, months: number): Date {
  const from = expiresAt === null ? now.getTime() : Math.max(now.getTime(), Date.parse(expiresAt));
  return addMonthsUtc(new Date(from), months);
}
