import { SagError } from '../errors.js';
import type { DomainSettings, GatewaySpec, Quotas } from './types.js';

/** The default area catalogue of SPEC §3: each area and the regions it groups. */
export const AREAS: Readonly<Record<string, readonly string[]>> = {
  'china-mainland': [
    'cn-hangzhou',
    'cn-shanghai',
    'cn-beijing',
    'cn-shenzhen',
    'cn-qingdao',
    'cn-zhangjiakou',
    'cn-chengdu',
  ],
  'asia-pacific': ['cn-hongkong', 'ap-southeast-1', 'ap-northeast-1'],
  europe: ['eu-central-1'],
  australia: ['ap-southeast-2'],
};

export const REGIONS: readonly string[] = Object.values(AREAS).flat();

const AREA_OF_REGION = new Map(
  Object.entries(AREAS).flatMap(([area, regions]) => regions.map((r) => [r, area])),
);

/** The area a region belongs to; undefined for a region no area holds. */
export function areaOfRegion(region: string): string | undefined {
  return AREA_OF_REGION.get(region);
}

export function isKnownArea(area: string): boolean {
  return typeof area === 'string' && Object.hasOwn(AREAS, area);
}

export interface BandwidthRange {
  minMbps: number;
  maxMbps: number;
}

/** Gateway specs and the bandwidth each can be bought with. */
export const GATEWAY_SPECS: Readonly<Record<GatewaySpec, BandwidthRange>> = {
  'sag-100wm': { minMbps: 2, maxMbps: 50 },
  'sag-1000': { minMbps: 10, maxMbps: 500 },
  'sag-vcpe': { minMbps: 10, maxMbps: 1000 },
};

export const SUBSCRIPTION_MONTHS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36];

export const DEFAULT_QUOTAS: Readonly<Quotas> = {
  gateways: 500,
  ccns: 10,
  acls: 10,
  rulesPerAcl: 50,
  privateCidrsPerGateway: 5,
  rulesPerSecurityGroup: 100,
};

export const DEFAULT_ENABLED_AREAS: readonly string[] = ['china-mainland'];

export const DEFAULT_SETTINGS: Readonly<DomainSettings> = {
  enabledAreas: [...DEFAULT_ENABLED_AREAS],
  quotas: { ...DEFAULT_QUOTAS },
};

/** Gateways and CCNs may only be created in a known area the broker has enabled. */
export function validateEnabledArea(area: string, settings: DomainSettings, field = 'area'): string {
  const enabled = settings.enabledAreas.join(', ');
  if (!isKnownArea(area)) {
    throw new SagError(
      'INVALID_AREA',
      `${field}: "${String(area)}" is not a known area; known areas: ${Object.keys(AREAS).join(', ')} (enabled on this broker: ${enabled})`,
      { field, value: area, enabledAreas: settings.enabledAreas },
    );
  }
  if (!settings.enabledAreas.includes(area)) {
    throw new SagError(
      'INVALID_AREA',
      `${field}: area ${area} is not enabled on this broker; enabled areas: ${enabled}`,
      { field, value: area, enabledAreas: settings.enabledAreas },
    );
  }
  return area;
}

/** A known area for a bandwidth package; enabled or not, since VPCs live in every area. */
export function validateKnownArea(area: string, field: string): string {
  if (!isKnownArea(area)) {
    throw new SagError(
      'INVALID_AREA',
      `${field}: "${String(area)}" is not a known area; known areas: ${Object.keys(AREAS).join(', ')}`,
      { field, value: area },
    );
  }
  return area;
}

export function validateRegion(region: string, field = 'region'): string {
  if (typeof region !== 'string' || areaOfRegion(region) === undefined) {
    throw new SagError(
      'INVALID_REGION',
      `${field}: "${String(region)}" is not a known region; valid regions: ${REGIONS.join(', ')}`,
      { field, value: region, regions: REGIONS },
    );
  }
  return region;
}

function isGatewaySpec(spec: string): spec is GatewaySpec {
  return typeof spec === 'string' && Object.hasOwn(GATEWAY_SPECS, spec);
}

export function validateSpec(spec: string, field = 'spec'): GatewaySpec {
  if (!isGatewaySpec(spec)) {
    throw new SagError(
      'INVALID_SPEC',
      `${field}: "${String(spec)}" is not a gateway spec; specs: ${Object.keys(GATEWAY_SPECS).join(', ')}`,
      { field, value: spec },
    );
  }
  return spec;
}

/** Bandwidth is a whole number of Mbps inside the range of the gateway's spec. */
export function validateBandwidth(spec: GatewaySpec, bandwidthMbps: number, field = 'bandwidthMbps'): number {
  const { minMbps, maxMbps } = GATEWAY_SPECS[spec];
  if (!Number.isInteger(bandwidthMbps) || bandwidthMbps < minMbps || bandwidthMbps > maxMbps) {
    throw new SagError(
      'INVALID_SPEC',
      `${field}: ${String(bandwidthMbps)} Mbps is outside the range of spec ${spec} (${minMbps}-${maxMbps} Mbps, whole numbers)`,
      { field, value: bandwidthMbps, spec, minMbps, maxMbps },
    );
  }
  return bandwidthMbps;
}

export function validateSubscriptionMonths(months: number, field = 'subscriptionMonths'): number {
  if (!SUBSCRIPTION_MONTHS.includes(months)) {
    throw new SagError(
      'INVALID_SUBSCRIPTION',
      `${field}: ${String(months)} is not a subscription term; choose one of ${SUBSCRIPTION_MONTHS.join(', ')} months`,
      { field, value: months, allowed: SUBSCRIPTION_MONTHS },
    );
  }
  return months;
}
