import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type BrokerProcess, startBroker, tempDir } from '../support/processes.js';

const running: BrokerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((broker) => broker.kill()));
});

async function start(dataDir: string, token: string) {
  const broker = await startBroker({ dataDir, token });
  running.push(broker);
  return broker;
}

async function allVpcIds(call: ReturnType<typeof api>): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const page = await call('GET', `/v1/vpcs?limit=500${query}`);
    expect(page.status).toBe(200);
    for (const vpc of page.body.items) ids.add(vpc.id);
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids;
}

describe('the broker killed mid-burst', () => {
  it('keeps every mutation it acknowledged, round after round, with an intact database', async () => {
    const dataDir = tempDir('durability');
    const token = 'durability-test-token-0123456789';
    const acknowledged = new Set<string>();
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const broker = await start(dataDir, token);
      const call = api(broker);
      const before = await allVpcIds(call);
      for (const id of acknowledged) expect(before.has(id), `${id} lost after round ${round - 1}`).toBe(true);

      // Eight writers in flight; the kill lands while requests are being committed.
      let stop = false;
      const writer = async (lane: number) => {
        for (let n = 0; !stop; n++) {
          const body = {
            name: `Burst r${round} l${lane} n${n}`,
            region: 'cn-shanghai',
            cidrBlocks: ['10.8.0.0/16'],
          };
          try {
            const answer = await call('POST', '/v1/vpcs', body);
            if (answer.status === 201) acknowledged.add(answer.body.id);
          } catch {
            return; // the connection died with the broker
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, lane) => writer(lane));
      await new Promise((resolve) => setTimeout(resolve, 300 + round * 50));
      await broker.kill();
      stop = true;
      await Promise.all(writers);
      running.splice(running.indexOf(broker), 1);
    }
    expect(acknowledged.size).toBeGreaterThan(rounds * 10);

    const db = new Database(join(dataDir, 'opensag.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const broker = await start(dataDir, token);
    const after = await allVpcIds(api(broker));
    const lost = [...acknowledged].filter((id) => !after.has(id));
    expect(lost).toEqual([]);
    const events = await api(broker)('GET', `/v1/events?limit=5&category=audit`);
    expect(events.status).toBe(200);
    expect(events.body.items[0].action).toBe('vpc.create');
  }, 120_000);
});
