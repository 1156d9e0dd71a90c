import { cloudTopic } from '@opensag/proto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ControlPlane } from '../controlPlane.js';
import { DEFAULT_QUOTAS } from '../domain/catalogue.js';
import { emptyTopology } from '../domain/types.js';
import { createMemoryStore } from '../store/memory.js';
import { gateway, SCENARIO_SETTINGS } from '../testing/referenceTopology.js';
import type { DeviceLinkContext } from './context.js';
import { ConfigPush, type PushOptions } from './push.js';
import { eventually } from './testLink.js';

describe('a config for every gateway at once', () => {
  const COUNT = 1200;

  /** A push over a real control plane of COUNT active gateways, every device connected. */
  function fleetPush(options: PushOptions) {
    const topology = emptyTopology();
    for (let i = 0; i < COUNT; i++) {
      const id = `sag-${i}`;
      topology.gateways.set(id, gateway({ id, name: id, expiresAt: '2099-01-01T00:00:00.000Z' }));
    }
    const store = createMemoryStore();
    store.loadTopology = () => topology;
    const controlPlane = new ControlPlane({
      store,
      log: pino({ level: 'silent' }),
      settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
      compile: SCENARIO_SETTINGS,
    });
    // Sessions whose output never backs up: every socket takes what it is given.
    const sessions = new Map(
      [...topology.gateways.values()].map((g) => [
        g.serialNumber,
        {
          serialNumber: g.serialNumber,
          gatewayId: g.id,
          client: { closed: false, conn: { writableLength: 0 } },
        },
      ]),
    );
    const sent: string[] = [];
    const sentAt: number[] = [];
    const ctx = {
      controlPlane,
      sessions: { bySerial: (serial: string) => sessions.get(serial) },
      log: pino({ level: 'silent' }),
      nowMs: Date.now,
      publish: (topic: string) => {
        sent.push(topic);
        sentAt.push(performance.now());
        return Promise.resolve();
      },
    } as unknown as DeviceLinkContext;
    return {
      push: new ConfigPush(ctx, options),
      controlPlane,
      ids: [...topology.gateways.keys()],
      sent,
      sentAt,
    };
  }

  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('sends each in batches with the event loop free in between, and stops when acked', async () => {
    const { push, controlPlane, ids, sent } = fleetPush({ batchSize: 500, initialRetryMs: 60_000 });
    for (const id of ids) push.reconcile(id);
    expect(sent).toHaveLength(0);
    await turn();
    expect(sent).toHaveLength(500);
    await eventually(() => sent.length === COUNT);
    expect(new Set(sent).size).toBe(COUNT);
    for (const id of ids) push.reconcile(id);
    await turn();
    expect(sent).toHaveLength(COUNT);
    for (const id of ids) push.acked(id, controlPlane.configRecord(id)?.revision ?? 0);
    expect(push.pending).toBe(0);
    push.close();
  });

  it('re-sends only the unacked ones when their retry falls due', async () => {
    const { push, controlPlane, ids, sent } = fleetPush({ batchSize: 500, initialRetryMs: 1000 });
    for (const id of ids) push.reconcile(id);
    await eventually(() => sent.length >= COUNT);
    const unacked = ids.slice(0, 10);
    for (const id of ids.slice(10)) push.acked(id, controlPlane.configRecord(id)?.revision ?? 0);
    await eventually(() => sent.length >= COUNT + unacked.length, 5000);
    expect(new Set(sent.slice(COUNT))).toEqual(
      new Set(unacked.map((id) => cloudTopic(`SN-${id}`, 'config'))),
    );
    push.close();
  });

  it('waits longer before re-sending the configs sent behind a backlog', async () => {
    const { push, ids, sent, sentAt } = fleetPush({ batchSize: 500, initialRetryMs: 200 });
    for (const id of ids) push.reconcile(id);
    await eventually(() => sent.length >= 2 * COUNT, 5000);
    push.close();
    // The n-th config waits 200 ms plus 0.5 ms for each of the n - 1 sent before it.
    const resent = sentAt.slice(COUNT, 2 * COUNT);
    expect(sent.slice(COUNT, 2 * COUNT)).toEqual(sent.slice(0, COUNT));
    expect(resent[COUNT - 1] - resent[0]).toBeGreaterThanOrEqual(0.5 * (COUNT - 1) - 60);
  });
});
