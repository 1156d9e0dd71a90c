import type { AedesPublishPacket } from 'aedes';
import { afterEach, expect, it } from 'vitest';
import { type MqttServer, startMqttServer } from './mqttServer.js';

let server: MqttServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const packet = (topic: string): AedesPublishPacket =>
  ({
    cmd: 'publish',
    topic,
    payload: Buffer.alloc(16),
    qos: 1,
    retain: false,
    dup: false,
  }) as AedesPublishPacket;

it('handles a storm of device messages queued behind slow deliveries without overflowing the stack', async () => {
  let handled = 0;
  server = await startMqttServer({
    tcp: { host: '127.0.0.1', port: 0 },
    handlers: {
      published: (_packet, _client, done) => {
        handled++;
        done(null);
      },
    },
  });
  const { aedes } = server;
  // Deliveries that take a while hold the emitter, as pushes to slow devices do.
  aedes.subscribe(
    'sag/v1/b/slow/config',
    (_message: unknown, done: () => void) => setTimeout(done, 5),
    () => {},
  );
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 300; i++) aedes.publish(packet('sag/v1/b/slow/config'), () => {});
  const storm = 50_000;
  let completed = 0;
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < storm; i++)
      aedes.publish(packet(`sag/v1/d/SN${i}/hello`), (err) => {
        if (err) reject(err);
        else if (++completed === storm) resolve();
      });
  });
  expect(completed).toBe(storm);
  expect(handled).toBeGreaterThanOrEqual(storm);
}, 30_000);
