import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSagError } from '../errors.js';
import { fixedContext } from '../testing/fixedContext.js';
import { blocksOverlap, parseBlock } from './cidr.js';
import { setNetwork } from './operations/index.js';
import { emptyTopology, type Gateway, type Topology } from './types.js';

/**
 * Overlap is checked against a brute-force oracle: every block lies inside 10.0.0.0/20 with a
 * prefix of /24 to /31, small enough to enumerate its addresses.
 */
const BASE = (10 << 24) >>> 0;

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

const block = fc
  .integer({ min: 24, max: 31 })
  .chain((prefix) =>
    fc
      .integer({ min: 0, max: 2 ** (prefix - 20) - 1 })
      .map((index) => `${dotted(BASE + index * 2 ** (32 - prefix))}/${prefix}`),
  );

function addresses(cidr: string): Set<number> {
  const [ip, prefix] = cidr.split('/');
  const first = ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return new Set(Array.from({ length: 2 ** (32 - Number(prefix)) }, (_, i) => first + i));
}

function oracleOverlap(a: string, b: string): boolean {
  const left = addresses(a);
  return [...addresses(b)].some((address) => left.has(address));
}

function gateway(id: string, privateCidrs: string[], ccnId: string | null): Gateway {
  return {
    id,
    name: `Branch ${id}`,
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 2,
    subscriptionMonths: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    lifecycle: 'ordered',
    serialNumber: null,
    publicKey: null,
    activatedAt: null,
    expiresAt: null,
    privateCidrs,
    ccnId,
    aclId: null,
    ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
  };
}

interface World {
  sameCcn: string[][];
  otherCcn: string[][];
  attachedVpcs: string[][];
  unreachable: string[][];
}

/** ccn-1 and ccn-2 attached to cen-1 with VPCs; unreachable owners sit outside. */
function buildWorld(world: World): { topology: Topology; reachable: string[] } {
  const topology = emptyTopology();
  const at = '2025-01-01T00:00:00.000Z';
  topology.cens.set('cen-1', { id: 'cen-1', name: 'Core', bandwidthPackages: [], createdAt: at });
  for (const id of ['ccn-1', 'ccn-2']) {
    topology.ccns.set(id, { id, name: id, area: 'china-mainland', cenId: 'cen-1', createdAt: at });
  }
  topology.ccns.set('ccn-3', {
    id: 'ccn-3',
    name: 'Lab',
    area: 'china-mainland',
    cenId: null,
    createdAt: at,
  });
  const reachable: string[] = [];
  const add = (id: string, cidrs: string[], ccnId: string | null, reach: boolean) => {
    topology.gateways.set(id, gateway(id, cidrs, ccnId));
    if (reach) reachable.push(...cidrs);
  };
  for (const [i, cidrs] of world.sameCcn.entries()) add(`sag-a${i}`, cidrs, 'ccn-1', true);
  for (const [i, cidrs] of world.otherCcn.entries()) add(`sag-b${i}`, cidrs, 'ccn-2', true);
  // Half the unreachable gateways sit in a CCN attached to no CEN, half in no CCN at all.
  for (const [i, cidrs] of world.unreachable.entries())
    add(`sag-c${i}`, cidrs, i % 2 === 0 ? 'ccn-3' : null, false);
  world.attachedVpcs.forEach((cidrBlocks, i) => {
    const id = `vpc-${i}`;
    topology.vpcs.set(id, { id, name: id, region: 'cn-shanghai', cidrBlocks, cenId: 'cen-1', createdAt: at });
    reachable.push(...cidrBlocks);
  });
  topology.gateways.set('sag-new', gateway('sag-new', [], null));
  return { topology, reachable };
}

const owners = fc.array(fc.array(block, { minLength: 1, maxLength: 2 }), { maxLength: 3 });

describe('CIDR overlap against a brute-force oracle', () => {
  it('blocksOverlap agrees with address enumeration', () => {
    fc.assert(
      fc.property(block, block, (a, b) => {
        const overlap = blocksOverlap(parseBlock(a, 'a'), parseBlock(b, 'b'));
        expect(overlap).toBe(oracleOverlap(a, b));
        expect(blocksOverlap(parseBlock(b, 'b'), parseBlock(a, 'a'))).toBe(overlap);
      }),
      { numRuns: 500 },
    );
  });

  it('setNetwork refuses exactly the blocks that share an address with what the gateway would reach', () => {
    fc.assert(
      fc.property(
        fc.record({ sameCcn: owners, otherCcn: owners, attachedVpcs: owners, unreachable: owners }),
        fc.array(block, { minLength: 1, maxLength: 3 }),
        (world, cidrs) => {
          const { topology, reachable } = buildWorld(world);
          const selfOverlap = cidrs.some((a, i) => cidrs.some((b, j) => j < i && oracleOverlap(a, b)));
          const expected = selfOverlap || cidrs.some((a) => reachable.some((b) => oracleOverlap(a, b)));
          let refused: unknown = null;
          try {
            setNetwork(topology, fixedContext(), 'sag-new', { privateCidrs: cidrs, ccnId: 'ccn-1' });
          } catch (err) {
            refused = err;
          }
          expect(refused !== null).toBe(expected);
          if (refused) {
            expect(isSagError(refused) && refused.code).toBe('CIDR_CONFLICT');
            const details = (refused as { details: Record<string, string> }).details;
            expect(details.resourceId).toBe('sag-new');
            expect(cidrs).toContain(details.cidr);
            expect(oracleOverlap(details.cidr, details.conflictingCidr)).toBe(true);
            expect(details.conflictingResourceId).not.toMatch(/^sag-c/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
