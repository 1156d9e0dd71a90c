// The reference broker of the fleet benchmark: a plain aedes on a TCP port, no authentication,
// run as a child process. On request it publishes one QoS 1 message to each client's topic
// (c/<i>) and times until every client's QoS 1 answer (a/<i>) has arrived.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.env.RAW_AEDES_PORT);
// Publishing thousands of messages in one synchronous loop overflows aedes' emitter stack.
const BATCH = 200;

const aedes = await Aedes.createBroker();
const server = createServer(aedes.handle);
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});

// Clients connected right now (raw<i> subscribes to c/<i>): a round goes to these.
const ready = new Set();
aedes.on('clientReady', (client) => ready.add(client.id));
aedes.on('clientDisconnect', (client) => ready.delete(client.id));

let round = null;
const finish = (missing) => {
  clearTimeout(round.timer);
  const ms = performance.now() - round.startedAt;
  process.send({ cmd: 'delivered', round: round.id, ms, count: round.count, missing });
  round = null;
};
aedes.on('publish', (packet, client) => {
  if (!client || !round || !packet.topic.startsWith('a/')) return;
  round.acks++;
  if (round.acks === round.count) finish(0);
});

function deliver({ id, size, timeoutMs }) {
  const payload = Buffer.alloc(size, 0x5a);
  const topics = [...ready].map((clientId) => `c/${clientId.slice(3)}`);
  const count = topics.length;
  round = { id, count, acks: 0, startedAt: performance.now() };
  round.timer = setTimeout(() => finish(count - round.acks), timeoutMs);
  let next = 0;
  // The next batch only once aedes has handled the last one, so its emitter queue stays short.
  const batch = () => {
    const end = Math.min(next + BATCH, count);
    let left = end - next;
    const handled = () => {
      if (--left === 0 && next < count) setImmediate(batch);
    };
    for (; next < end; next++) {
      aedes.publish(
        { cmd: 'publish', topic: topics[next], payload, qos: 1, retain: false, dup: false },
        handled,
      );
    }
  };
  if (count > 0) batch();
}

process.on('message', (message) => {
  if (message.cmd === 'deliver') deliver(message);
  else if (message.cmd === 'stop') aedes.close(() => server.close(() => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
process.send({ cmd: 'ready' });
