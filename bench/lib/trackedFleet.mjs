// The simulated fleet (packages/agent/dist/simulate) in this process, with every device's
// milestones counted: connections, refused or failed attempts, and config acks the broker took.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startFleet } from '../../packages/agent/dist/simulate/fleet.js';
import { waitFor } from './children.mjs';
import { peakPerSecond } from './stats.mjs';

export async function startTrackedFleet({ identities, brokerUrl, concurrency, reportIntervalMs }) {
  const count = identities.length;
  const ackedRevision = new Array(count).fill(0);
  const isConnected = new Array(count).fill(false);
  const connectedAt = [];
  const disconnects = [];
  const rejected = [];
  let connected = 0;
  let lastConnectedAt = 0;
  let round = null;

  const onMilestone = (m) => {
    if (m.kind === 'connected') {
      if (!isConnected[m.index]) connected++;
      isConnected[m.index] = true;
      connectedAt.push(m.atMs);
      lastConnectedAt = m.atMs;
    } else if (m.kind === 'disconnected') {
      if (isConnected[m.index]) connected--;
      isConnected[m.index] = false;
      disconnects.push({ atMs: m.atMs, serialNumber: m.serialNumber, reason: m.reason });
    } else if (m.kind === 'acked') {
      if (m.result !== 'APPLIED') {
        rejected.push(m);
        return;
      }
      ackedRevision[m.index] = Math.max(ackedRevision[m.index], m.revision);
      if (round && !round.done[m.index] && m.revision > round.baseline[m.index]) {
        round.done[m.index] = true;
        round.acked++;
        round.lastAt = m.atMs;
      }
    }
  };

  // Counting starts before the first CONNECT: the first configs are a round from revision 0.
  round = { baseline: new Array(count).fill(0), done: new Array(count).fill(false), acked: 0, lastAt: 0 };
  const fleet = await startFleet({
    identities,
    brokerUrl,
    concurrency,
    reportIntervalMs,
    keepaliveSeconds: 30,
    settleTimeoutMs: 3_600_000,
    onMilestone,
  });

  // The simulator shares the machine with the broker: a starved event loop here delays CONNECTs,
  // PINGREQs and acks, and would be charged to the broker.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();

  const disconnectReasons = () => {
    const counts = {};
    for (const d of disconnects)
      counts[d.reason ?? 'connection closed'] = (counts[d.reason ?? 'connection closed'] ?? 0) + 1;
    return counts;
  };

  return {
    fleet,
    count,
    /** One line for the operator while a phase runs. */
    status() {
      const acked = round ? round.acked : 0;
      const delay = `event loop p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms, max ${Math.round(loopDelay.max / 1e6)} ms`;
      return `connected ${connected}/${count}, acked ${acked}/${count}, ${disconnects.length} disconnects, ${rejected.length} rejected; ${delay}`;
    },
    /** The simulator's event-loop delay since the last call (ms), then starts measuring afresh. */
    takeLoopDelay() {
      const figures = {
        p99Ms: Math.round(loopDelay.percentile(99) / 1e6),
        maxMs: Math.round(loopDelay.max / 1e6),
      };
      loopDelay.reset();
      return figures;
    },
    get connected() {
      return connected;
    },
    connectedAt,
    disconnects,
    rejected,
    /** Starts counting acks of a revision newer than each device's last acked one. */
    beginRound() {
      round = { baseline: ackedRevision.slice(), done: new Array(count).fill(false), acked: 0, lastAt: 0 };
    },
    /** Waits until every device acked a newer revision; the `performance.now()` of the last ack. */
    async roundDone(timeoutMs, what) {
      const current = round;
      await waitFor(async () => current.acked === count, { timeoutMs, everyMs: 10, what }).catch((err) => {
        // Counted when the wait gave up, not when it began.
        const late = current.done.findIndex((d) => !d);
        throw new Error(
          `${err.message}: ${count - current.acked} of ${count} devices have not acked a new revision (${rejected.length} rejected; e.g. ${identities[late]?.serialNumber}); disconnects ${JSON.stringify(disconnectReasons())}`,
        );
      });
      return current.lastAt;
    },
    /** Waits until all devices are connected; the time of the last connection. */
    async allConnected(timeoutMs, what) {
      await waitFor(async () => connected === count, {
        timeoutMs,
        everyMs: 10,
        what: `${what}: ${count - connected} of ${count} devices not connected`,
      });
      return lastConnectedAt;
    },
    peakConnectionsPerSecond: (since) =>
      peakPerSecond(
        connectedAt.filter((t) => t >= since),
        since,
      ),
    refusalsSince: (since) => disconnects.filter((d) => d.atMs >= since),
    close: () => {
      loopDelay.disable();
      return fleet.close();
    },
  };
}
