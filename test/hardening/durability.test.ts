import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type AgentProcess, initAgent, runAgent } from '../support/agents.js';
import { cloudApi } from '../support/cloud.js';
import { integrityOf, killMidBurstRounds } from '../support/durabilityRounds.js';
import { BURST_BROKER_CONFIG, Ledger, runBurst } from '../support/mutationBurst.js';
import {
  auditEventsAfter,
  listObjects,
  readEvents,
  replayDifferences,
} from '../support/mutationBurstCheck.js';
import {
  api,
  BROKER_CLI,
  type BrokerProcess,
  removeTempDirs,
  startBroker,
  tempDir,
} from '../support/processes.js';
import { sleep, waitFor } from '../support/waitFor.js';

const run = promisify(execFile);
const running: (BrokerProcess | AgentProcess)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.kill()));
});
afterAll(() => removeTempDirs());

describe('the broker SIGKILLed during a burst of mutations (short run; 20 rounds in test/soak)', () => {
  it('keeps every acknowledged mutation as answered, each unanswered one whole or absent, the file intact', async () => {
    const rounds = await killMidBurstRounds({
      rounds: 2,
      lanes: 6,
      seed: 7001,
      killAfterMs: { min: 100, spread: 500 },
      onRound: (round) => console.info(JSON.stringify(round)),
    });
    expect(rounds).toHaveLength(2);
    expect(rounds.reduce((sum, r) => sum + r.unanswered, 0)).toBeGreaterThan(0);
  }, 90_000);
});

/** A gateway with a device, a CCN, blocks and an ACL: something whose config a device can take. */
async function seedBranch(broker: BrokerProcess, serialNumber: string) {
  const cloud = cloudApi(broker);
  const device = await initAgent(serialNumber);
  const gateway = await cloud.post<{ id: string }>('/v1/gateways', {
    name: 'Backup branch',
    area: 'china-mainland',
    spec: 'sag-100wm',
    bandwidthMbps: 10,
    subscriptionMonths: 12,
  });
  await cloud.put(`/v1/gateways/${gateway.id}/device`, {
    serialNumber: device.serialNumber,
    publicKey: device.publicKey,
  });
  await cloud.post(`/v1/gateways/${gateway.id}/activate`);
  const ccn = await cloud.post<{ id: string }>('/v1/ccns', { name: 'Backup ccn', area: 'china-mainland' });
  await cloud.put(`/v1/gateways/${gateway.id}/network`, { privateCidrs: ['172.16.0.0/16'], ccnId: ccn.id });
  const acl = await cloud.post<{ id: string }>('/v1/acls', { name: 'Backup acl' });
  await cloud.post(`/v1/acls/${acl.id}/rules`, {
    direction: 'in',
    policy: 'drop',
    priority: 1,
    protocol: 'tcp',
    sourceCidr: '0.0.0.0/0',
    sourcePortRange: '-1/-1',
    destCidr: '172.16.0.0/16',
    destPortRange: '22/22',
  });
  await cloud.put(`/v1/gateways/${gateway.id}/acl`, { aclId: acl.id });
  return { device, gatewayId: gateway.id };
}

describe('sag-broker backup, taken while the broker writes', () => {
  it('copies a consistent prefix that restores into a broker a device syncs from', async () => {
    const live = await startBroker({ config: BURST_BROKER_CONFIG });
    running.push(live);
    const { device, gatewayId } = await seedBranch(live, 'SAGDUR-BACKUP1');
    const ledger = new Ledger();
    let stopped = false;
    let acknowledged = 0;
    const burst = runBurst(api(live), ledger, {
      lanes: 4,
      round: 0,
      seed: 42,
      stopped: () => stopped,
      onAcknowledged: () => acknowledged++,
    });
    await sleep(400);
    const before = await auditEventsAfter(api(live), 0);
    const out = join(tempDir('backup'), 'opensag-backup.db');
    const startedAt = Date.now();
    const acknowledgedBefore = acknowledged;
    const { stdout } = await run(process.execPath, [
      BROKER_CLI,
      'backup',
      '--data-dir',
      live.dataDir,
      '--out',
      out,
      '--json',
    ]);
    const backupMs = Date.now() - startedAt;
    const acknowledgedDuring = acknowledged - acknowledgedBefore;
    await sleep(300);
    stopped = true;
    const stats = await burst;
    await live.stop();
    const summary = JSON.parse(stdout);
    console.info(
      JSON.stringify({
        backupMs,
        acknowledgedDuring,
        stats: { ...stats, refused: stats.refused.length },
        summary,
      }),
    );
    expect(stats.refused).toEqual([]);
    expect(acknowledgedDuring, 'writes acknowledged while the backup ran').toBeGreaterThan(0);

    // One self-contained file, private, intact, and what the command reported.
    expect(summary).toMatchObject({ path: out, integrity: 'ok', schemaVersion: expect.any(Number) });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(existsSync(`${out}-wal`)).toBe(false);
    expect(integrityOf(out)).toBe('ok');
    const copy = new Database(out, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();

    // A prefix of the live history, taken after the writes acknowledged before it started and
    // before the ones that followed; every row is what its audit log replays to.
    const copied = readEvents(out);
    const history = readEvents(join(live.dataDir, 'opensag.db'));
    expect(copied.length).toBe(summary.counts.events);
    expect(copied).toEqual(history.slice(0, copied.length));
    expect(copied.at(-1)!.id).toBeGreaterThanOrEqual(before.lastId);
    expect(history.length).toBeGreaterThan(copied.length);
    expect(replayDifferences(out)).toEqual([]);

    // Restored as the operations guide says: the copy as opensag.db, nothing beside it.
    const restoredDir = tempDir('restored');
    copyFileSync(out, join(restoredDir, 'opensag.db'));
    const restored = await startBroker({ dataDir: restoredDir, config: BURST_BROKER_CONFIG });
    running.push(restored);
    expect((await fetch(`${restored.url}/healthz`)).status).toBe(200);
    const objects = await listObjects(api(restored));
    const ids = (table: string) =>
      new Database(out, { readonly: true }).prepare(`SELECT id FROM ${table}`).pluck().all() as string[];
    const served = (kind: string) =>
      [...objects]
        .filter(([, o]) => o.kind === kind)
        .map(([id]) => id)
        .sort();
    expect(served('gateway')).toEqual(ids('gateways').sort());
    expect(served('acl')).toEqual(ids('acls').sort());

    const agent = runAgent(device, restored.mqttUrl);
    running.push(agent);
    const cloud = cloudApi(restored);
    const status = await waitFor(
      'the device in sync with the restored broker',
      async () => {
        const s = await cloud.get<{ sync: string; appliedRevision: number; desiredRevision: number }>(
          `/v1/gateways/${gatewayId}/status`,
        );
        return s.sync === 'in-sync' && s.appliedRevision === s.desiredRevision ? s : null;
      },
      { timeoutMs: 15_000 },
    );
    const config = await cloud.get<{
      revision: number;
      config: { privateCidrs: string[]; aclRules: unknown[] };
    }>(`/v1/gateways/${gatewayId}/config`);
    expect(config.revision).toBe(status.appliedRevision);
    expect(config.config.privateCidrs).toEqual(['172.16.0.0/16']);
    expect(config.config.aclRules).toHaveLength(1);
  }, 90_000);
});
