// The side-by-side reference: a plain aedes child and N plain MQTT.js clients in this process,
// each subscribed (QoS 1) to its own topic and answering every message with a QoS 1 ack.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freeTcpPort, sleep, spawnNode, stopChild } from './children.mjs';
import { openInspector } from './inspector.mjs';
import { memorySample } from './memory.mjs';
import { peakPerSecond } from './stats.mjs';

const SERVER = fileURLToPath(new URL('./rawAedesServer.mjs', import.meta.url));

/**
 * Connects `count` clients at most `concurrency` at once: how long until all were CONNACKed and
 * subscribed, the peak CONNACKs per second, and how many attempts failed (no retry).
 */
async function connectClients({ url, count, concurrency, ackSize, timeoutMs }) {
  const clients = new Array(count);
  const connackAt = [];
  const ack = Buffer.alloc(ackSize, 0x61);
  let failures = 0;
  let firstFailure = null;
  let subscribed = 0;
  let next = 0;
  let inFlight = 0;
  const startedAt = performance.now();
  let lastConnack = startedAt;
  let lastSubscribed = startedAt;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`raw aedes: ${subscribed}/${count} clients subscribed after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const done = () => {
      if (subscribed + failures < count) return;
      clearTimeout(timer);
      resolve({
        clients,
        connackMs: lastConnack - startedAt,
        subscribedMs: lastSubscribed - startedAt,
        peakPerSecond: peakPerSecond(connackAt, startedAt),
        failures,
        firstFailure,
      });
    };
    const launch = () => {
      while (inFlight < concurrency && next < count) {
        const i = next++;
        inFlight++;
        let settled = false;
        const release = (failed, reason) => {
          if (settled) return;
          settled = true;
          inFlight--;
          if (failed) {
            failures++;
            firstFailure ??= reason;
            done();
          }
          launch();
        };
        const client = mqtt.connect(url, {
          clientId: `raw${i}`,
          protocolVersion: 4,
          clean: true,
          keepalive: 30,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        });
        clients[i] = client;
        client.on('connect', () => {
          lastConnack = performance.now();
          connackAt.push(lastConnack);
          release(false);
          client.subscribe(`c/${i}`, { qos: 1 }, (err) => {
            if (err) return;
            subscribed++;
            lastSubscribed = performance.now();
            done();
          });
        });
        client.on('message', () => client.publish(`a/${i}`, ack, { qos: 1 }));
        client.on('error', (err) => release(true, err.message));
        client.on('close', () => release(true, 'connection closed'));
      }
    };
    launch();
  });
}

/** B1, B3 and B4 of raw aedes, in that child, with these clients. */
export async function runReference({
  count,
  concurrency,
  rounds,
  payloadBytes,
  ackBytes,
  dir,
  profile,
  progress,
}) {
  const port = await freeTcpPort();
  const inspectPort = await freeTcpPort();
  const child = spawnNode({
    nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`],
    script: SERVER,
    logFile: join(dir, 'raw-aedes.log'),
    env: { RAW_AEDES_PORT: String(port) },
    ipc: true,
  });
  // A send to a child that died fails here; the exit is reported by nextMessage.
  child.on('error', () => undefined);
  const messages = [];
  let wake = null;
  child.on('message', (message) => {
    messages.push(message);
    wake?.();
  });
  const nextMessage = async (cmd, timeoutMs) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const at = messages.findIndex((m) => m.cmd === cmd);
      if (at >= 0) return messages.splice(at, 1)[0];
      if (child.exitCode !== null)
        throw new Error(`raw aedes exited (${child.exitCode}); see ${dir}/raw-aedes.log`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`raw aedes: no "${cmd}" after ${timeoutMs} ms`);
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 1000));
      });
    }
  };
  let connected = null;
  const inspector = await openInspector(inspectPort);
  try {
    await nextMessage('ready', 30_000);
    await sleep(1000);
    const before = await memorySample(child.pid, inspector);
    const storm = await connectClients({
      url: `mqtt://127.0.0.1:${port}`,
      count,
      concurrency,
      ackSize: ackBytes,
      timeoutMs: 300_000,
    });
    connected = storm.clients;
    progress?.(`raw aedes: ${count - storm.failures}/${count} clients connected and subscribed`);
    await sleep(2000);
    const after = await memorySample(child.pid, inspector);
    if (profile) await inspector.startProfile();
    const deliveries = [];
    let deliveredTo = 0;
    for (let round = 0; round < rounds; round++) {
      child.send({ cmd: 'deliver', id: round, size: payloadBytes, timeoutMs: 120_000 });
      const delivered = await nextMessage('delivered', 180_000);
      if (delivered.missing > 0) {
        throw new Error(
          `raw aedes round ${round + 1}: ${delivered.missing} of ${delivered.count} clients never acked within 120 s`,
        );
      }
      deliveries.push(delivered.ms);
      deliveredTo = delivered.count;
      await sleep(500);
    }
    if (profile) await inspector.stopProfile(join(profile, `raw-aedes-${count}-b1.cpuprofile`));
    return { storm: { ...storm, clients: undefined }, memory: { before, after }, deliveries, deliveredTo };
  } finally {
    inspector.close();
    if (connected) {
      for (let i = 0; i < connected.length; i += 1000) {
        await Promise.all(connected.slice(i, i + 1000).map((c) => c?.endAsync(true).catch(() => undefined)));
      }
    }
    if (child.connected) child.send({ cmd: 'stop' });
    await stopChild(child, 'SIGTERM', 5000);
  }
}
