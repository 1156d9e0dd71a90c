import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Change, Topology } from '../domain/types.js';
import { SagError } from '../errors.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { EventQuery, NewEvent, Store, StoredEvent } from '../store/store.js';
import {
  gatewayMutation,
  sampleAcl,
  sampleCcn,
  sampleCen,
  sampleConfig,
  sampleDeviceState,
  sampleGateway,
  sampleInstance,
  sampleMutation,
  sampleSecurityGroup,
  sampleVpc,
} from './samples.js';

/** How the contract gets at a store implementation. */
export interface StoreHarness {
  /** A new, empty store. */
  open(): Store;
  /** The same data as the next process would see it (SQLite: close and reopen the file). */
  reopen(store: Store): Store;
}

/**
 * The behaviour every Store must have, as a suite of tests. Each implementation's test file
 * calls this, so the in-memory store used by other tests cannot drift from SQLite.
 */
export function defineStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    let scratch: string;
    beforeAll(() => {
      scratch = mkdtempSync(join(tmpdir(), 'sag-contract-'));
    });
    beforeEach(() => {
      store = harness.open();
    });
    afterEach(() => store.close());
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    const reopen = () => {
      store = harness.reopen(store);
      return store;
    };

    it('starts empty', () => {
      const topology = store.loadTopology();
      for (const collection of Object.values(topology)) expect(collection.size).toBe(0);
      expect(store.loadConfigs().size).toBe(0);
      expect(store.loadDeviceStates().size).toBe(0);
      expect(store.listEvents({ limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it('keeps every kind of entity across a reopen, in creation order', () => {
      const put = (value: Change & { op: 'put' }) => value;
      store.commit(
        sampleMutation([
          put({ op: 'put', kind: 'gateway', value: sampleGateway('sag-b', { serialNumber: 'SN-B' }) }),
          put({ op: 'put', kind: 'gateway', value: sampleGateway('sag-a') }),
          put({ op: 'put', kind: 'ccn', value: sampleCcn('ccn-1', { cenId: 'cen-1' }) }),
          put({ op: 'put', kind: 'cen', value: sampleCen('cen-1') }),
          put({ op: 'put', kind: 'vpc', value: sampleVpc('vpc-1') }),
          put({ op: 'put', kind: 'instance', value: sampleInstance('i-1', 'vpc-1') }),
          put({ op: 'put', kind: 'securityGroup', value: sampleSecurityGroup('sg-1', 'vpc-1') }),
          put({ op: 'put', kind: 'acl', value: sampleAcl('acl-1') }),
          put({ op: 'put', kind: 'ccn', value: sampleCcn('ccn-0') }),
        ]),
      );
      // An update keeps its place; a deleted id put again goes to the end.
      const renamed = sampleGateway('sag-b', { serialNumber: 'SN-B', name: 'renamed', ccnId: 'ccn-0' });
      store.commit(
        sampleMutation([
          { op: 'put', kind: 'gateway', value: renamed },
          { op: 'delete', kind: 'ccn', id: 'ccn-1' },
          { op: 'put', kind: 'gateway', value: sampleGateway('sag-c') },
          { op: 'put', kind: 'ccn', value: sampleCcn('ccn-1') },
        ]),
      );
      const topology = reopen().loadTopology();
      expect(keys(topology)).toEqual({
        gateways: ['sag-b', 'sag-a', 'sag-c'],
        ccns: ['ccn-0', 'ccn-1'],
        cens: ['cen-1'],
        vpcs: ['vpc-1'],
        instances: ['i-1'],
        securityGroups: ['sg-1'],
        acls: ['acl-1'],
      });
      expect(topology.gateways.get('sag-b')).toEqual(renamed);
      expect(topology.ccns.get('ccn-1')).toEqual(sampleCcn('ccn-1'));
      expect(topology.securityGroups.get('sg-1')).toEqual(sampleSecurityGroup('sg-1', 'vpc-1'));
      expect(topology.acls.get('acl-1')).toEqual(sampleAcl('acl-1'));
      expect(topology.instances.get('i-1')).toEqual(sampleInstance('i-1', 'vpc-1'));
    });

    it('returns the audit event it wrote, as listed after a reopen', () => {
      const gateway = sampleGateway('sag-1');
      const mutation = gatewayMutation(gateway);
      mutation.changeset.audit = {
        action: 'gateway.create',
        resourceType: 'gateway',
        resourceId: 'sag-1',
        before: null,
        after: gateway,
      };
      const event = store.commit({
        ...mutation,
        actor: 'token:ops',
        at: new Date('2024-06-01T10:00:00.000Z'),
      });
      expect(event).toEqual({
        id: 1,
        at: '2024-06-01T10:00:00.000Z',
        category: 'audit',
        action: 'gateway.create',
        actor: 'token:ops',
        resourceType: 'gateway',
        resourceId: 'sag-1',
        before: null,
        after: gateway,
      });
      expect(reopen().listEvents({ limit: 500 }).items).toEqual([event]);
    });

    it('writes, replaces and removes compiled configs', () => {
      store.commit(gatewayMutation(sampleGateway('sag-1'), 1));
      store.commit(gatewayMutation(sampleGateway('sag-2'), 1));
      store.commit(gatewayMutation(sampleGateway('sag-1'), 2));
      expect(reopen().loadConfigs()).toEqual(
        new Map([
          ['sag-1', sampleConfig('sag-1', 2)],
          ['sag-2', sampleConfig('sag-2', 1)],
        ]),
      );
      store.commit(
        sampleMutation([{ op: 'delete', kind: 'gateway', id: 'sag-2' }], { removedConfigs: ['sag-2'] }),
      );
      expect(reopen().loadConfigs()).toEqual(new Map([['sag-1', sampleConfig('sag-1', 2)]]));
      expect([...store.loadTopology().gateways.keys()]).toEqual(['sag-1']);
    });

    it('appends device events, keeping optional fields absent when not given', () => {
      const online: NewEvent = {
        at: new Date('2024-06-01T10:00:00.000Z'),
        category: 'device',
        action: 'device.online',
        actor: 'device:SN-1',
        resourceType: 'gateway',
        resourceId: 'sag-1',
      };
      const failover = { ...online, action: 'tunnel.failover', details: { from: 'ap-1', to: 'ap-2' } };
      const stored = store.appendEvents([online, failover]);
      expect(stored.map((e) => e.id)).toEqual([1, 2]);
      expect(stored[0]).not.toHaveProperty('details');
      expect(stored[0]).not.toHaveProperty('before');
      expect(stored[1].details).toEqual({ from: 'ap-1', to: 'ap-2' });
      expect(store.appendEvents([])).toEqual([]);
      expect(reopen().listEvents({ limit: 10 }).items).toEqual([stored[1], stored[0]]);
    });

    it('replaces compiled configs outside a mutation, leaving the others and the event log alone', () => {
      store.commit(
        sampleMutation([{ op: 'put', kind: 'vpc', value: sampleVpc('vpc-1') }], {
          configs: [sampleConfig('sag-1', 1), sampleConfig('sag-2', 1)],
        }),
      );
      const events = store.listEvents({ limit: 10 }).items.length;
      store.putConfigs([sampleConfig('sag-1', 2)]);
      const configs = reopen().loadConfigs();
      expect(configs.get('sag-1')).toEqual(sampleConfig('sag-1', 2));
      expect(configs.get('sag-2')).toEqual(sampleConfig('sag-2', 1));
      expect(store.listEvents({ limit: 10 }).items).toHaveLength(events);
    });

    it('keeps the latest device state of each gateway', () => {
      store.putDeviceStates([sampleDeviceState('sag-2', 'SN-2')]);
      store.putDeviceStates([sampleDeviceState('sag-1', 'SN-1')]);
      const offline = {
        ...sampleDeviceState('sag-1', 'SN-1'),
        presence: 'offline' as const,
        sync: 'pending' as const,
      };
      store.putDeviceStates([offline]);
      expect(reopen().loadDeviceStates()).toEqual(
        new Map([
          ['sag-1', offline],
          ['sag-2', sampleDeviceState('sag-2', 'SN-2')],
        ]),
      );
    });

    it('refuses a second gateway with the same serial number and writes nothing of that mutation', () => {
      store.commit(gatewayMutation(sampleGateway('sag-a', { serialNumber: 'SN-1' })));
      const clash = sampleMutation(
        [
          { op: 'put', kind: 'ccn', value: sampleCcn('ccn-new') },
          { op: 'put', kind: 'gateway', value: sampleGateway('sag-b', { serialNumber: 'SN-1' }) },
        ],
        { configs: [sampleConfig('sag-b', 1)] },
      );
      const error = catchError(() => store.commit(clash));
      expect(error).toBeInstanceOf(SagError);
      expect(error).toMatchObject({
        code: 'ALREADY_BOUND',
        details: { boundTo: 'sag-a', gatewayId: 'sag-b' },
      });
      expect((error as Error).message).toMatch(/SN-1.*sag-b.*sag-a/);
      for (const view of [() => store, reopen]) {
        expect(keys(view().loadTopology()).ccns).toEqual([]);
        expect(keys(store.loadTopology()).gateways).toEqual(['sag-a']);
        expect([...store.loadConfigs().keys()]).toEqual(['sag-a']);
        expect(store.listEvents({ limit: 10 }).items).toHaveLength(1);
      }
      // The store still works, and no event id was used up by the failed mutation.
      const next = store.commit(gatewayMutation(sampleGateway('sag-b', { serialNumber: 'SN-2' })));
      expect(next.id).toBe(2);
      expect(keys(reopen().loadTopology()).gateways).toEqual(['sag-a', 'sag-b']);
    });

    it('writes nothing of a mutation whose compiled config cannot be stored', () => {
      const broken = sampleMutation([{ op: 'put', kind: 'gateway', value: sampleGateway('sag-x') }], {
        configs: [{ ...sampleConfig('sag-x', 1), config: { size: 1n } }],
      });
      expect(() => store.commit(broken)).toThrow(/BigInt/);
      expect(reopen().loadTopology().gateways.size).toBe(0);
      expect(store.listEvents({ limit: 10 }).items).toEqual([]);
      expect(store.commit(gatewayMutation(sampleGateway('sag-x'))).id).toBe(1);
    });

    it('lets one mutation move a serial number it releases first', () => {
      store.commit(gatewayMutation(sampleGateway('sag-a', { serialNumber: 'SN-1' })));
      store.commit(
        sampleMutation([
          { op: 'put', kind: 'gateway', value: sampleGateway('sag-a') },
          { op: 'put', kind: 'gateway', value: sampleGateway('sag-b', { serialNumber: 'SN-1' }) },
        ]),
      );
      store.commit(sampleMutation([{ op: 'delete', kind: 'gateway', id: 'sag-b' }]));
      store.commit(gatewayMutation(sampleGateway('sag-c', { serialNumber: 'SN-1' })));
      const gateways = reopen().loadTopology().gateways;
      expect([...gateways.values()].map((g) => [g.id, g.serialNumber])).toEqual([
        ['sag-a', null],
        ['sag-c', 'SN-1'],
      ]);
    });

    it('pages through 1,234 events newest first, each exactly once, across a reopen', () => {
      store.appendEvents(Array.from({ length: 1234 }, (_, i) => deviceEvent(i)));
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = store.listEvents({ limit: 100, cursor });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
        if (pages === 5) reopen();
      } while (cursor !== undefined);
      expect(pages).toBe(13);
      expect(seen).toEqual(Array.from({ length: 1234 }, (_, i) => 1234 - i));
    });

    it('ends with a null cursor when the last page is exactly full', () => {
      store.appendEvents(Array.from({ length: 200 }, (_, i) => deviceEvent(i)));
      const first = store.listEvents({ limit: 100 });
      const second = store.listEvents({ limit: 100, cursor: first.nextCursor as string });
      expect(first.nextCursor).not.toBeNull();
      expect(second.items.map((e) => e.id)).toEqual(Array.from({ length: 100 }, (_, i) => 100 - i));
      expect(second.nextCursor).toBeNull();
    });

    it('filters events by resource and by category, across pages', () => {
      const all = store.appendEvents(Array.from({ length: 300 }, (_, i) => deviceEvent(i)));
      store.commit(gatewayMutation(sampleGateway('sag-3')));
      const everything = [...all, ...store.listEvents({ limit: 1 }).items];
      const queries: Omit<EventQuery, 'limit' | 'cursor'>[] = [
        { resourceId: 'sag-3' },
        { category: 'audit' },
        { category: 'device' },
        { resourceId: 'sag-3', category: 'audit' },
        { resourceId: 'sag-none' },
      ];
      for (const filter of queries) {
        const expected = everything
          .filter((e) => filter.resourceId === undefined || e.resourceId === filter.resourceId)
          .filter((e) => filter.category === undefined || e.category === filter.category)
          .map((e) => e.id)
          .reverse();
        expect(pageThrough(store, { ...filter, limit: 7 }), JSON.stringify(filter)).toEqual(expected);
      }
    });

    it('refuses a limit outside 1..500 and a cursor it did not make', () => {
      store.appendEvents([deviceEvent(0), deviceEvent(1)]);
      for (const limit of [0, 501, 1.5, Number.NaN]) {
        expect(catchError(() => store.listEvents({ limit }))).toMatchObject({
          code: 'VALIDATION',
          details: { field: 'limit' },
        });
      }
      const b64 = (text: string) => Buffer.from(text).toString('base64url');
      for (const cursor of [
        '',
        'not a cursor',
        b64('0'),
        b64('01'),
        b64('-1'),
        b64('1e3'),
        b64('99999999999999999'),
      ]) {
        expect(catchError(() => store.listEvents({ limit: 1, cursor }))).toMatchObject({
          code: 'VALIDATION',
          details: { field: 'cursor' },
        });
      }
      expect(store.listEvents({ limit: 5, cursor: b64('2') }).items.map((e) => e.id)).toEqual([1]);
    });

    it('hands out copies: changing what went in or came out does not change the store', () => {
      const gateway = sampleGateway('sag-1');
      store.commit(gatewayMutation(gateway));
      gateway.privateCidrs.push('10.0.0.0/8');
      store.loadTopology().gateways.get('sag-1')?.privateCidrs.push('10.1.0.0/16');
      (store.loadConfigs().get('sag-1')!.config as { routes: unknown[] }).routes.length = 0;
      expect(store.loadTopology().gateways.get('sag-1')).toEqual(sampleGateway('sag-1'));
      expect(store.loadConfigs().get('sag-1')).toEqual(sampleConfig('sag-1', 1));
    });

    it('drops __proto__ and constructor.prototype keys of stored JSON, so nothing reaches Object.prototype', () => {
      const hostile = () =>
        JSON.parse(
          '{"wan":[],"lan":[],"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}',
        );
      expect(Object.hasOwn(hostile(), '__proto__')).toBe(true);
      const gateway = { ...sampleGateway('sag-p'), ports: hostile() };
      try {
        store.commit({
          ...gatewayMutation(gateway),
          configs: [{ ...sampleConfig('sag-p', 1), config: hostile() }],
        });
        store.appendEvents([{ ...deviceEvent(0), details: hostile() }]);
        store.putDeviceStates([{ ...sampleDeviceState('sag-p', 'SN-P'), report: hostile() }]);
        reopen();
        const loaded = [
          store.loadTopology().gateways.get('sag-p')?.ports,
          store.loadConfigs().get('sag-p')?.config,
          store.loadDeviceStates().get('sag-p')?.report,
          ...store.listEvents({ limit: 10 }).items.flatMap((e) => [e.details, e.after]),
        ].filter((value) => value !== undefined && value !== null);
        expect(loaded).toHaveLength(5);
        for (const value of loaded) {
          naiveMerge({}, value);
          expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
      } finally {
        delete (Object.prototype as Record<string, unknown>).polluted;
      }
    });

    it('backs up to a database that openSqliteStore opens with the same state', async () => {
      store.commit(gatewayMutation(sampleGateway('sag-1', { serialNumber: 'SN-1' })));
      store.commit(sampleMutation([{ op: 'put', kind: 'vpc', value: sampleVpc('vpc-1') }]));
      store.appendEvents([deviceEvent(0)]);
      store.putDeviceStates([sampleDeviceState('sag-1', 'SN-1')]);
      const path = join(scratch, `backup-${Date.now()}-${Math.random()}.db`);
      await store.backup(path);
      const copy = openSqliteStore(path);
      try {
        expect(copy.loadTopology()).toEqual(store.loadTopology());
        expect(copy.loadConfigs()).toEqual(store.loadConfigs());
        expect(copy.loadDeviceStates()).toEqual(store.loadDeviceStates());
        expect(copy.listEvents({ limit: 500 })).toEqual(store.listEvents({ limit: 500 }));
        expect(copy.commit(gatewayMutation(sampleGateway('sag-2'))).id).toBe(4);
        expect(() => copy.commit(gatewayMutation(sampleGateway('sag-3', { serialNumber: 'SN-1' })))).toThrow(
          SagError,
        );
      } finally {
        copy.close();
      }
    });
  });
}

function keys(topology: Topology): Record<keyof Topology, string[]> {
  return Object.fromEntries(Object.entries(topology).map(([name, map]) => [name, [...map.keys()]])) as Record<
    keyof Topology,
    string[]
  >;
}

function deviceEvent(i: number): NewEvent {
  return {
    at: new Date(Date.UTC(2024, 5, 1, 0, 0, i)),
    category: i % 3 === 0 ? 'audit' : 'device',
    action: 'device.report',
    actor: `device:SN-${i % 7}`,
    resourceType: 'gateway',
    resourceId: `sag-${i % 7}`,
    details: { sequence: i },
  };
}

function pageThrough(store: Store, query: EventQuery): number[] {
  const ids: number[] = [];
  let page = store.listEvents(query);
  ids.push(...page.items.map((e: StoredEvent) => e.id));
  while (page.nextCursor !== null) {
    page = store.listEvents({ ...query, cursor: page.nextCursor });
    ids.push(...page.items.map((e) => e.id));
  }
  return ids;
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

/** The textbook vulnerable deep merge: it pollutes Object.prototype if a `__proto__` key survives. */
function naiveMerge(target: Record<string, unknown>, source: unknown): void {
  if (typeof source !== 'object' || source === null) return;
  for (const key of Object.keys(source)) {
    const value = (source as Record<string, unknown>)[key];
    if (typeof value === 'object' && value !== null) {
      target[key] ??= {};
      naiveMerge(target[key] as Record<string, unknown>, value);
    } else {
      target[key] = value;
    }
  }
}
