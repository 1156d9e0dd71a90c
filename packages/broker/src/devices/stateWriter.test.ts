import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite.js';
import type { DeviceStateRecord, NewEvent } from '../store/store.js';
import { DeviceStateWriter } from './stateWriter.js';

function fakeStore() {
  const calls = { appendEvents: [] as NewEvent[][], putDeviceStates: [] as DeviceStateRecord[][] };
  return {
    calls,
    appendEvents(events: NewEvent[]) {
      calls.appendEvents.push(events);
      return [];
    },
    putDeviceStates(states: DeviceStateRecord[]) {
      calls.putDeviceStates.push(states);
    },
  };
}

const state = (gatewayId: string, appliedRevision: number): DeviceStateRecord => ({
  gatewayId,
  serialNumber: `SN-${gatewayId}`,
  presence: 'online',
  lastSeenAt: null,
  appliedRevision,
  appliedHash: null,
  sync: 'pending',
  syncError: null,
  report: {},
});

const event = (action: string): NewEvent => ({
  at: new Date(),
  category: 'device',
  action,
  actor: 'device:SN',
  resourceType: 'gateway',
  resourceId: 'sag-1',
});

describe('DeviceStateWriter', () => {
  it('coalesces a burst into one event transaction and the latest state per gateway', async () => {
    const store = fakeStore();
    const writer = new DeviceStateWriter(store, pino({ level: 'silent' }), 30);
    for (let i = 1; i <= 1000; i++) {
      writer.put(state(`sag-${i % 10}`, i));
      writer.append([event('config.applied')]);
    }
    expect(store.calls.appendEvents).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(store.calls.appendEvents).toHaveLength(1);
    expect(store.calls.appendEvents[0]).toHaveLength(1000);
    // One state transaction holding the latest state of each of the ten gateways.
    expect(store.calls.putDeviceStates).toHaveLength(1);
    expect(store.calls.putDeviceStates[0]).toHaveLength(10);
    expect(store.calls.putDeviceStates[0].find((s) => s.gatewayId === 'sag-0')?.appliedRevision).toBe(1000);
  });

  it('keeps what failed to write and writes it on the next flush', () => {
    const store = fakeStore();
    let broken = true;
    const writer = new DeviceStateWriter(
      {
        appendEvents: (events) => {
          if (broken) throw new Error('disk full');
          return store.appendEvents(events);
        },
        putDeviceStates: (states) => {
          if (broken) throw new Error('disk full');
          store.putDeviceStates(states);
        },
      },
      pino({ level: 'silent' }),
    );
    writer.put(state('sag-1', 1));
    writer.append([event('device.online')]);
    writer.flush();
    expect(writer.pending).toBe(2);
    broken = false;
    writer.flush();
    expect(writer.pending).toBe(0);
    expect(store.calls.putDeviceStates).toEqual([[state('sag-1', 1)]]);
    expect(store.calls.appendEvents[0]).toHaveLength(1);
  });

  it('writes every event in order, across ticks and on the flush at close, to SQLite', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const writer = new DeviceStateWriter(store, pino({ level: 'silent' }), 20);
      for (let i = 0; i < 300; i++) writer.append([event(`tick-one.${i}`)]);
      writer.put(state('sag-1', 1));
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(writer.pending).toBe(0);
      // The second burst is still within its tick when the broker closes: flush writes it.
      for (let i = 0; i < 300; i++) writer.append([event(`tick-two.${i}`)]);
      writer.put(state('sag-1', 2));
      expect(store.listEvents({ limit: 500 }).items).toHaveLength(300);
      writer.flush();
      const actions: string[] = [];
      let cursor: string | undefined;
      do {
        const page = store.listEvents({ limit: 500, cursor });
        actions.push(...page.items.map((e) => e.action));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      const expected = [
        ...Array.from({ length: 300 }, (_, i) => `tick-one.${i}`),
        ...Array.from({ length: 300 }, (_, i) => `tick-two.${i}`),
      ];
      expect(actions.reverse()).toEqual(expected);
      expect(store.loadDeviceStates().get('sag-1')?.appliedRevision).toBe(2);
    } finally {
      store.close();
    }
  });

  it('stores a device state whose report is shared by later states exactly as given', () => {
    const store = openSqliteStore(':memory:');
    try {
      const report = { ports: [{ name: 'wan0', up: true }], agentVersion: '1.2.3', gone: undefined };
      const writer = new DeviceStateWriter(store, pino({ level: 'silent' }));
      writer.put({ ...state('sag-1', 1), report });
      writer.flush();
      writer.put({ ...state('sag-1', 2), presence: 'offline', report });
      writer.put({ ...state('sag-2', 3), report: null });
      writer.flush();
      const loaded = store.loadDeviceStates();
      expect(loaded.get('sag-1')).toEqual({
        ...state('sag-1', 2),
        presence: 'offline',
        report: { ports: [{ name: 'wan0', up: true }], agentVersion: '1.2.3' },
      });
      expect(loaded.get('sag-2')).toEqual({ ...state('sag-2', 3), report: null });
    } finally {
      store.close();
    }
  });
});
