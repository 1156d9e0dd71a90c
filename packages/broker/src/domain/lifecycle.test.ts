import { describe, expect, it } from 'vitest';
import { addMonthsUtc, isLocked, renewedExpiry } from './lifecycle.js';

const at = (iso: string) => new Date(iso);

describe('addMonthsUtc', () => {
  it.each([
    ['2025-01-15T08:00:00.000Z', 1, '2025-02-15T08:00:00.000Z'],
    ['2025-01-31T23:30:00.000Z', 1, '2025-02-28T23:30:00.000Z'],
    ['2024-01-31T00:00:00.000Z', 1, '2024-02-29T00:00:00.000Z'],
    ['2025-03-31T12:00:00.000Z', 6, '2025-09-30T12:00:00.000Z'],
    ['2025-12-15T00:00:00.000Z', 1, '2026-01-15T00:00:00.000Z'],
    ['2025-11-30T00:00:00.000Z', 3, '2026-02-28T00:00:00.000Z'],
    ['2024-02-29T10:00:00.000Z', 12, '2025-02-28T10:00:00.000Z'],
    ['2025-05-01T00:00:00.000Z', 36, '2028-05-01T00:00:00.000Z'],
  ])('%s + %i months = %s', (from, months, expected) => {
    expect(addMonthsUtc(at(from), months).toISOString()).toBe(expected);
  });

  it('does not change its argument', () => {
    const date = at('2025-01-31T00:00:00.000Z');
    addMonthsUtc(date, 1);
    expect(date.toISOString()).toBe('2025-01-31T00:00:00.000Z');
  });
});

describe('isLocked', () => {
  const gateway = { expiresAt: '2025-02-15T08:00:00.000Z' };

  it('is unlocked before expiry and locked from the expiry instant on', () => {
    expect(isLocked(gateway, at('2025-02-15T07:59:59.999Z'))).toBe(false);
    expect(isLocked(gateway, at('2025-02-15T08:00:00.000Z'))).toBe(true);
    expect(isLocked(gateway, at('2026-01-01T00:00:00.000Z'))).toBe(true);
  });

  it('never locks a gateway that was not activated', () => {
    expect(isLocked({ expiresAt: null }, at('2099-01-01T00:00:00.000Z'))).toBe(false);
  });
});

describe('renewedExpiry', () => {
  it('extends from the current expiry while it lies ahead', () => {
    const next = renewedExpiry('2025-03-10T00:00:00.000Z', at('2025-03-01T00:00:00.000Z'), 2);
    expect(next.toISOString()).toBe('2025-05-10T00:00:00.000Z');
  });

  it('extends from now once expired', () => {
    const next = renewedExpiry('2025-03-10T00:00:00.000Z', at('2025-06-20T09:00:00.000Z'), 1);
    expect(next.toISOString()).toBe('2025-07-20T09:00:00.000Z');
  });
});
