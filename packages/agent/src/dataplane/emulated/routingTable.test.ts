import { ipInCidr } from '@opensag/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, prefixMask } from '../../ipv4.js';
import type { RouteKind, RouteState } from '../dataplane.js';
import { RoutingTable } from './routingTable.js';

describe('RoutingTable', () => {
  it('picks the longest matching prefix', () => {
    const table = new RoutingTable();
    table.add({ destination: '10.0.0.0/8', kind: 'tunnel' });
    table.add({ destination: '10.1.0.0/16', kind: 'tunnel', sourceResourceId: 'vpc-sh' });
    table.add({ destination: '10.1.2.0/24', kind: 'tunnel', sourceResourceId: 'vpc-x' });
    expect(table.lookup('10.1.2.3')?.destination).toBe('10.1.2.0/24');
    expect(table.lookup('10.1.3.3')?.destination).toBe('10.1.0.0/16');
    expect(table.lookup('10.9.0.1')?.destination).toBe('10.0.0.0/8');
    expect(table.lookup('192.168.0.1')).toBeNull();
    expect(table.lookup('not-an-ip')).toBeNull();
  });

  it('matches a default route and host routes', () => {
    const table = new RoutingTable();
    table.add({ destination: '0.0.0.0/0', kind: 'tunnel' });
    table.add({ destination: '10.0.0.7/32', kind: 'private' });
    expect(table.lookup('8.8.8.8')?.destination).toBe('0.0.0.0/0');
    expect(table.lookup('10.0.0.7')?.kind).toBe('private');
    expect(table.lookup('255.255.255.255')?.destination).toBe('0.0.0.0/0');
  });

  it('prefers connected over private over tunnel for the same block', () => {
    const table = new RoutingTable();
    expect(table.add({ destination: '172.16.0.0/24', kind: 'tunnel' })).toBe(true);
    expect(table.add({ destination: '172.16.0.0/24', kind: 'connected', interface: 'lan1' })).toBe(true);
    expect(table.add({ destination: '172.16.0.0/24', kind: 'private' })).toBe(false);
    expect(table.lookup('172.16.0.9')).toMatchObject({ kind: 'connected', interface: 'lan1' });
    expect(table.size).toBe(1);
  });

  it('refuses malformed destinations and removes routes', () => {
    const table = new RoutingTable();
    expect(() => table.add({ destination: '10.1.0.1/16', kind: 'tunnel' })).toThrow(RangeError);
    table.add({ destination: '10.1.0.0/16', kind: 'tunnel' });
    expect(table.remove('10.1.0.0/16')).toBe(true);
    expect(table.lookup('10.1.0.1')).toBeNull();
  });

  it('agrees with a naive scan over every route (property)', () => {
    const rank: Record<RouteKind, number> = { connected: 0, private: 1, tunnel: 2 };
    const routeArb = fc
      .record({
        address: fc.nat({ max: 0xffffffff }),
        // Short prefixes and few distinct high bytes make overlaps likely.
        prefix: fc.integer({ min: 0, max: 32 }),
        kind: fc.constantFrom<RouteKind>('connected', 'private', 'tunnel'),
      })
      .map(({ address, prefix, kind }): RouteState => {
        const squeezed = (address & 0x0fffffff) >>> 0;
        return { destination: `${formatIpv4((squeezed & prefixMask(prefix)) >>> 0)}/${prefix}`, kind };
      });
    fc.assert(
      fc.property(
        fc.array(routeArb, { maxLength: 40 }),
        fc.array(fc.nat({ max: 0x0fffffff }), { minLength: 1, maxLength: 30 }),
        (routes, ips) => {
          const table = new RoutingTable();
          for (const route of routes) table.add(route);
          // Each route's own network address is probed too, so most lookups hit overlapping routes.
          for (const ip of [...ips.map(formatIpv4), ...routes.map((r) => r.destination.split('/')[0])]) {
            const covering = routes.filter((r) => ipInCidr(ip, r.destination));
            const longest = Math.max(-1, ...covering.map((r) => Number(r.destination.split('/')[1])));
            const best = covering
              .filter((r) => Number(r.destination.split('/')[1]) === longest)
              .sort((a, b) => rank[a.kind] - rank[b.kind])[0];
            const found = table.lookup(ip);
            expect(found ? { destination: found.destination, kind: found.kind } : null).toEqual(
              best ? { destination: best.destination, kind: best.kind } : null,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
