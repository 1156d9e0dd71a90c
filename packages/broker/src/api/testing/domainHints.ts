import fc from 'fast-check';
import { AREAS, REGIONS, SUBSCRIPTION_MONTHS } from '../../domain/catalogue.js';
import { idRef, KINDS } from './fuzzWorld.js';
import type { Hint } from './schemaArbitrary.js';

/**
 * Values shaped like the domain's (CIDRs, addresses, port ranges, names, ids of live resources),
 * by property name: a schema says "string, at most 64 characters", these say what gets past the
 * domain's own checks, so valid cases reach the code behind them.
 */

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.oneof(
  fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
  fc
    .constantFrom('10.1.0.', '10.2.0.', '172.16.0.', '172.16.1.', '192.168.10.')
    .chain((p) => octet.map((o) => p + o)),
);
const cidr = fc.oneof(
  fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, len]) => `${ip}/${len}`),
  fc.constantFrom(
    '10.1.0.0/16',
    '10.1.1.0/24',
    '172.16.0.0/16',
    '172.17.0.0/16',
    '192.168.0.0/16',
    '0.0.0.0/0',
    '10.0.0.0/8',
  ),
);
const port = fc.integer({ min: -1, max: 65_535 });
const portRange = fc.oneof(
  fc.constant('-1/-1'),
  fc.tuple(port, port).map(([a, b]) => `${a}/${b}`),
);
export const validName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ._-]{0,30}[A-Za-z0-9._-]$/);
/** Also a valid resource name: port names are the stricter of the two. */
const portName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{1,14}$/);
const mostly = <T>(usual: T, others: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: others });
/** A cursor as the API makes them (creation time and id), pointing anywhere in time. */
const cursor = fc
  .tuple(
    fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    fc.string({ maxLength: 16 }),
  )
  .map(([at, id]) => Buffer.from(`${at.toISOString()}|${id}`).toString('base64url'));

/** Domain-shaped values by property name, so generated bodies get past the first checks. */
export const domainHint: Hint = (property) => {
  switch (property) {
    case 'name':
      return fc.oneof(validName, portName);
    case 'area':
    case 'areas':
      return mostly('china-mainland', fc.constantFrom(...Object.keys(AREAS)));
    case 'cursor':
      return cursor;
    case 'region':
      return fc.constantFrom(...REGIONS);
    case 'cidr':
    case 'cidrBlocks':
    case 'privateCidrs':
    case 'sourceCidr':
    case 'destCidr':
      return cidr;
    case 'privateIp':
      return fc.oneof(
        octet.map((o) => `10.1.0.${o}`),
        ipv4,
      );
    case 'ip':
    case 'destination':
    case 'gateway':
    case 'dns':
    case 'start':
    case 'end':
      return ipv4;
    case 'address':
      return fc.tuple(ipv4, fc.integer({ min: 8, max: 32 })).map(([ip, len]) => `${ip}/${len}`);
    case 'portRange':
    case 'sourcePortRange':
    case 'destPortRange':
      return portRange;
    case 'priority':
      return fc.integer({ min: 0, max: 101 });
    case 'bandwidthMbps':
      return fc.oneof(fc.constantFrom(2, 10, 50), fc.integer({ min: 1, max: 1001 }));
    case 'subscriptionMonths':
      return fc.constantFrom(...SUBSCRIPTION_MONTHS, 10, 0);
    case 'serialNumber':
      return fc.nat(99_999).map((n) => `SAG100WM-${n}`);
    case 'publicKey':
      return fc.uint8Array({ minLength: 31, maxLength: 33 }).map((b) => Buffer.from(b).toString('base64'));
    case 'gatewayId':
      return idRef(['gateway']);
    case 'ccnId':
      return idRef(['ccn']);
    case 'cenId':
      return idRef(['cen']);
    case 'vpcId':
      return idRef(['vpc']);
    case 'aclId':
      return idRef(['acl']);
    case 'instanceId':
      return idRef(['instance', 'vpc', 'ccn']);
    case 'securityGroupIds':
      return idRef(['securityGroup']);
    case 'resourceId':
      return idRef(KINDS);
    default:
      return undefined;
  }
};
