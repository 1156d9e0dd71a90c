import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../controlPlane.js';
import { DEFAULT_QUOTAS } from '../domain/catalogue.js';
import { emptyTopology } from '../domain/types.js';
import { createMemoryStore } from '../store/memory.js';
import { gateway, SCENARIO_SETTINGS } from '../testing/referenceTopology.js';
import type { DeviceLinkContext } from './context.js';
import { ConfigPush } from './push.js';
import type { DeviceSession } from './sessions.js';
import { eventually } from './testLink.js';

/** A device connection whose unsent bytes the test sets, as a socket nobody reads would show them. */
class FakeConn extends EventEmitter {
  writableLength = 0;
  drain(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
}

const GATEWAY_ID = 'sag-slow';
let push: ConfigPush | null = null;
afterEach(() => push?.close());

/** ConfigPush over a real control plane of one active gateway whose device is connected. */
function slowDevice(output: { maxBufferedBytes: number; stallMs: number }) {
  const topology = emptyTopology();
  topology.gateways.set(
    GATEWAY_ID,
    gateway({ id: GATEWAY_ID, name: 'Ningbo branch', expiresAt: '2099-01-01T00:00:00.000Z' }),
  );
  const store = createMemoryStore();
  store.loadTopology = () => topology;
  const logs: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write: (chunk, _encoding, done) => {
        logs.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  const controlPlane = new ControlPlane({
    store,
    log,
    settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
    compile: SCENARIO_SETTINGS,
  });
  const conn = new FakeConn();
  const client = {
    id: `SN-${GATEWAY_ID}`,
    closed: false,
    conn,
    close() {
      client.closed = true;
    },
  };
  const session = {
    serialNumber: client.id,
    gatewayId: GATEWAY_ID,
    client,
    address: '198.51.100.7',
  } as unknown as DeviceSession;
  const closeReasons: string[] = [];
  const sent: string[] = [];
  let now = 1_000_000;
  const ctx = {
    controlPlane,
    sessions: {
      bySerial: (serial: string) => (serial === client.id && !client.closed ? session : undefined),
      setCloseReason: (_client: unknown, reason: string) => closeReasons.push(reason),
    },
    log,
    nowMs: () => now,
    publish: (topic: string) => {
      sent.push(topic);
      return Promise.resolve();
    },
  } as unknown as DeviceLinkContext;
  push = new ConfigPush(ctx, { initialRetryMs: 20, maxRetryMs: 20, output });
  return {
    push,
    conn,
    client,
    sent,
    closeReasons,
    logs,
    tick: (ms: number) => {
      now += ms;
    },
    events: () =>
      controlPlane.events({ limit: 50, resourceId: GATEWAY_ID, category: 'device' }).items.map((e) => ({
        action: e.action,
        details: e.details,
      })),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 120));

describe('a device that does not read what the broker sends it', () => {
  it('gets no second copy of its config while the first still waits, and gets it once drained', async () => {
    const d = slowDevice({ maxBufferedBytes: 1_000_000, stallMs: 60_000 });
    d.push.reconcile(GATEWAY_ID);
    await eventually(() => d.sent.length === 1);
    d.conn.writableLength = 50_000;
    // Retries fall due every 20 ms; none writes while the earlier output waits.
    await settle();
    expect(d.sent).toHaveLength(1);
    expect(
      d.logs.some((l) => l.msg === 'config held back: the device has not read what was sent before'),
    ).toBe(true);
    d.conn.drain();
    await eventually(() => d.sent.length === 2);
    expect(d.client.closed).toBe(false);
  });

  it('is dropped, with a warning and a device.slow-consumer event, once its backlog is over the cap', async () => {
    const d = slowDevice({ maxBufferedBytes: 100_000, stallMs: 60_000 });
    d.push.reconcile(GATEWAY_ID);
    await eventually(() => d.sent.length === 1);
    d.conn.writableLength = 100_001;
    await eventually(() => d.client.closed);
    expect(d.sent).toHaveLength(1);
    expect(d.closeReasons).toEqual([
      'the device is not reading: 100001 bytes wait to be sent to it, over the cap of 100000',
    ]);
    const warning = d.logs.find((l) => l.msg.startsWith('dropping a device that does not read'));
    expect(warning?.level).toBe(40);
    d.push.reconcile(GATEWAY_ID);
    await settle();
    expect(d.sent).toHaveLength(1);
    expect(d.push.pending).toBe(0);
  });

  it('is dropped once its output has not drained for stallMs; a drain in between starts the clock again', async () => {
    const d = slowDevice({ maxBufferedBytes: 1_000_000, stallMs: 10_000 });
    d.push.reconcile(GATEWAY_ID);
    await eventually(() => d.sent.length === 1);
    d.conn.writableLength = 2000;
    await settle();
    d.tick(9000);
    d.conn.drain();
    d.conn.writableLength = 2000;
    await settle();
    d.tick(9000);
    await settle();
    // 18 s backlogged in all, but never 10 s without a drain.
    expect(d.client.closed).toBe(false);
    d.tick(1000);
    await eventually(() => d.client.closed);
    expect(d.closeReasons[0]).toBe(
      'the device is not reading: what was sent to it has not drained for 10 s (2000 bytes waiting)',
    );
  });

  it('records the drop as a device.slow-consumer event with the reason', async () => {
    const d = slowDevice({ maxBufferedBytes: 10, stallMs: 60_000 });
    d.push.reconcile(GATEWAY_ID);
    await eventually(() => d.sent.length === 1);
    d.conn.writableLength = 11;
    await eventually(() => d.client.closed);
    await eventually(() => d.events().length > 0);
    expect(d.events()).toContainEqual({
      action: 'device.slow-consumer',
      details: expect.objectContaining({
        reason: 'the device is not reading: 11 bytes wait to be sent to it, over the cap of 10',
        bufferedBytes: 11,
        address: '198.51.100.7',
      }),
    });
  });
});
