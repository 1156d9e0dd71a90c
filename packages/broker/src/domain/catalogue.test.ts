import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../errors.js';
import {
  AREAS,
  areaOfRegion,
  DEFAULT_QUOTAS,
  DEFAULT_SETTINGS,
  GATEWAY_SPECS,
  validateBandwidth,
  validateEnabledArea,
  validateKnownArea,
  validateRegion,
  validateSpec,
  validateSubscriptionMonths,
} from './catalogue.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

describe('area catalogue', () => {
  it('holds the default areas of SPEC §3', () => {
    expect(Object.keys(AREAS)).toEqual(['china-mainland', 'asia-pacific', 'europe', 'australia']);
    expect(AREAS['china-mainland']).toContain('cn-shanghai');
    expect(areaOfRegion('cn-beijing')).toBe('china-mainland');
    expect(areaOfRegion('ap-southeast-2')).toBe('australia');
    expect(areaOfRegion('eu-central-1')).toBe('europe');
    expect(areaOfRegion('mars-1')).toBeUndefined();
  });

  it('enables only china-mainland by default', () => {
    expect(DEFAULT_SETTINGS.enabledAreas).toEqual(['china-mainland']);
    expect(validateEnabledArea('china-mainland', DEFAULT_SETTINGS)).toBe('china-mainland');
  });

  it('refuses a known area that is not enabled, saying which are', () => {
    const err = refusal(() => validateEnabledArea('europe', DEFAULT_SETTINGS));
    expect(err.code).toBe('INVALID_AREA');
    expect(err.message).toContain('europe is not enabled');
    expect(err.message).toContain('enabled areas: china-mainland');
  });

  it('refuses an unknown area, listing known and enabled ones', () => {
    const err = refusal(() => validateEnabledArea('mars', DEFAULT_SETTINGS));
    expect(err.code).toBe('INVALID_AREA');
    expect(err.message).toContain('"mars" is not a known area');
    expect(err.message).toContain('asia-pacific');
    expect(err.message).toContain('enabled on this broker: china-mainland');
    expect(refusal(() => validateKnownArea('__proto__', 'areas[0]')).code).toBe('INVALID_AREA');
  });

  it('knows regions and lists the valid ones when refusing', () => {
    expect(validateRegion('cn-shanghai')).toBe('cn-shanghai');
    const err = refusal(() => validateRegion('cn-mars'));
    expect(err.code).toBe('INVALID_REGION');
    expect(err.message).toContain('"cn-mars"');
    expect(err.message).toContain('cn-hangzhou');
    expect(err.message).toContain('ap-southeast-2');
    expect(refusal(() => validateRegion('constructor')).code).toBe('INVALID_REGION');
  });
});

describe('gateway specs', () => {
  it.each([
    ['sag-100wm', 2, 50],
    ['sag-1000', 10, 500],
    ['sag-vcpe', 10, 1000],
  ] as const)('%s takes %i to %i Mbps', (spec, min, max) => {
    expect(GATEWAY_SPECS[spec]).toEqual({ minMbps: min, maxMbps: max });
    expect(validateBandwidth(spec, min)).toBe(min);
    expect(validateBandwidth(spec, max)).toBe(max);
    for (const bad of [min - 1, max + 1, min + 0.5]) {
      const err = refusal(() => validateBandwidth(spec, bad));
      expect(err.code).toBe('INVALID_SPEC');
      expect(err.message).toContain(`${spec} (${min}-${max} Mbps`);
    }
  });

  it('refuses an unknown spec, listing the specs', () => {
    const err = refusal(() => validateSpec('sag-9000'));
    expect(err.code).toBe('INVALID_SPEC');
    expect(err.message).toContain('sag-100wm, sag-1000, sag-vcpe');
    expect(refusal(() => validateSpec('toString')).code).toBe('INVALID_SPEC');
  });
});

describe('subscription months', () => {
  it('accepts exactly 1-9, 12, 24 and 36', () => {
    const accepted = Array.from({ length: 40 }, (_, m) => m).filter((m) => {
      try {
        return validateSubscriptionMonths(m) === m;
      } catch (err) {
        expect((err as SagError).code).toBe('INVALID_SUBSCRIPTION');
        return false;
      }
    });
    expect(accepted).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36]);
  });

  it('names the allowed terms when refusing', () => {
    expect(refusal(() => validateSubscriptionMonths(10)).message).toContain(
      '1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36',
    );
  });
});

describe('default quotas', () => {
  it('match SPEC §3', () => {
    expect(DEFAULT_QUOTAS).toEqual({
      gateways: 500,
      ccns: 10,
      acls: 10,
      rulesPerAcl: 50,
      privateCidrsPerGateway: 5,
      rulesPerSecurityGroup: 100,
    });
  });
});
