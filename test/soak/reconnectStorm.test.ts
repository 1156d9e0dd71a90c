import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The benchmark's own library: it provisions the fleet, runs the broker child with its open-files
// limit raised, and restarts it under the simulated fleet (bench/fleet.mjs, phase B4).
import { brokerPlan, startBrokerChild } from '../../bench/lib/broker.mjs';
import { activationStorm, restartStorm } from '../../bench/lib/brokerPhases.mjs';
import { killAll } from '../../bench/lib/children.mjs';
import { seedThroughStore } from '../../bench/lib/seedStore.mjs';
import { DEFAULT_BACKOFF } from '../../packages/agent/src/session/backoff.js';
import { openFilesProblem, readOpenFilesLimit } from '../../packages/agent/src/simulate/fdLimit.js';
import { loadFleetIdentities } from '../../packages/agent/src/simulate/fleetIdentities.js';
import { removeTempDirs, tempDir } from '../support/processes.js';

const GATEWAYS = 2000;
const TIMEOUT_MS = 180_000;

/**
 * The bound on the busiest second. A device that lost the broker waits U[0, 0.5 s], then, refused
 * while the broker is down, U[0, 1 s], U[0, 2 s], U[0, 4 s], capped at U[0, 5 s] (DEFAULT_BACKOFF:
 * full jitter). A restart keeps the door shut for more than the first two waits, so when it opens
 * every device's next attempt is spread over at least 2 s: no whole second can hold more than
 * about half the fleet, the more so as the ceiling climbs to 5 s (a fifth per second).
 */
const MAX_PEAK_SHARE = 0.5;

afterAll(() => {
  killAll();
  removeTempDirs();
});

/** Connections per whole second from `t0` (ms), in order, empty seconds included. */
function perSecond(times: number[], t0: number): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const second = Math.floor((t - t0) / 1000);
    counts[second] = (counts[second] ?? 0) + 1;
  }
  return Array.from(counts, (count) => count ?? 0);
}

describe('a broker restart under 2,000 agents', () => {
  it('spreads the reconnects and brings every device back in sync', async () => {
    const fdProblem = openFilesProblem(GATEWAYS, readOpenFilesLimit());
    expect(fdProblem, fdProblem ?? '').toBeNull();

    const dir = tempDir('reconnect-storm');
    const { identities } = await loadFleetIdentities(join(dir, 'identities'), GATEWAYS);
    mkdirSync(join(dir, 'fleet'), { recursive: true });
    const plan = await brokerPlan({
      dir: join(dir, 'fleet'),
      dataDir: join(dir, 'fleet', 'data'),
      gateways: GATEWAYS,
      logLevel: 'info',
    });
    seedThroughStore({ dir: join(dir, 'fleet'), dataDir: plan.dataDir, identities });
    let broker = await startBrokerChild(plan);
    let tracker: Awaited<ReturnType<typeof activationStorm>>['tracker'] | null = null;
    try {
      const storm = await activationStorm({
        broker,
        identities,
        concurrency: 200,
        timeoutMs: TIMEOUT_MS,
        reportIntervalMs: 60_000,
      });
      tracker = storm.tracker;
      expect(storm.result.brokerSays).toEqual({ online: GATEWAYS, inSync: GATEWAYS });

      const before = tracker.connectedAt.length;
      const restart = await restartStorm({ broker, plan, tracker, profile: null, timeoutMs: TIMEOUT_MS });
      broker = restart.broker;
      const r = restart.result;
      const reconnects = tracker.connectedAt.slice(before);
      const firstAt = Math.min(...reconnects);
      const seconds = perSecond(reconnects, firstAt);
      const figures = {
        gateways: GATEWAYS,
        stopMs: Math.round(r.stopMs),
        brokerReadyMs: Math.round(r.brokerReadyMs),
        reconnects: reconnects.length,
        peakPerSecond: Math.max(...seconds),
        averagePerSecond: Math.round(reconnects.length / seconds.length),
        herdMs: Math.round(r.herdMs),
        perSecond: seconds,
        allConnectedAfterReadyMs: Math.round(r.connectedAfterReadyMs),
        inSyncAfterReadyMs: Math.round(r.inSyncAfterReadyMs),
        inSyncAfterSigtermMs: Math.round(r.stopMs + r.brokerReadyMs + r.inSyncAfterReadyMs),
        refusals: r.refusals,
        refusalReasons: r.refusalReasons,
        rejectedConfigs: tracker.rejected.length,
        backoff: DEFAULT_BACKOFF,
      };
      console.log(`reconnect storm: ${JSON.stringify(figures)}`);

      // Every device came back (restartStorm waited for all connected, and the broker's own
      // gauges to count all online and in sync), none refused, none lost.
      expect(tracker.connected).toBe(GATEWAYS);
      expect(reconnects.length).toBeGreaterThanOrEqual(GATEWAYS);
      expect(r.refusals).toBe(0);
      expect(tracker.rejected).toEqual([]);
      // Spread: the busiest second holds well below the whole fleet.
      expect(figures.peakPerSecond).toBeLessThanOrEqual(GATEWAYS * MAX_PEAK_SHARE);
      expect(seconds.length).toBeGreaterThanOrEqual(2);
    } finally {
      await tracker?.close().catch(() => undefined);
      await broker.stop();
    }
  }, 600_000);
});
