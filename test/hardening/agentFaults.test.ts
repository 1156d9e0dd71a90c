import { readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AgentStatus,
  EmulatedDataPlane,
  LAST_KNOWN_GOOD_FILE,
  loadLastKnownGood,
  startAgent,
} from '@opensag/agent';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentIdentity, type AgentProcess, initAgent, readStatusFile } from '../support/agents.js';
import {
  type Cloud,
  cloudApi,
  events,
  gatewayConfig,
  orderGatewayFor,
  waitForSync as waitForSyncOf,
} from '../support/cloud.js';
import { Lab } from '../support/lab.js';
import { waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

/** Nothing listens here: an agent started against it shows what it booted from disk alone. */
const NO_BROKER = 'mqtt://127.0.0.1:1';
const TEMP_FILE = /^\.(last-known-good|status)\.json\.[0-9a-f]{12}\.tmp$/;

/** A device running its agent, activated, in sync, with an (empty) ACL bound so rules can be added. */
async function activatedDevice(serialNumber: string) {
  const broker = await lab.broker();
  const cloud = cloudApi(broker);
  const device = await initAgent(serialNumber);
  const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', device);
  const agent = lab.agent(device, broker.mqttUrl);
  await cloud.post(`/v1/gateways/${gatewayId}/activate`);
  const acl = await cloud.post<{ id: string }>('/v1/acls', { name: 'Branch firewall' });
  await cloud.put(`/v1/gateways/${gatewayId}/acl`, { aclId: acl.id });
  const bound = await gatewayConfig(cloud, gatewayId);
  await waitForSync(cloud, gatewayId, 'in-sync', bound.revision);
  return { broker, cloud, device, gatewayId, agent, aclId: acl.id };
}

/** The sync state at a revision, polled every 50 ms for up to 20 s. */
const waitForSync = (cloud: Cloud, gatewayId: string, sync: 'in-sync' | 'failed', desiredRevision: number) =>
  waitForSyncOf(cloud, gatewayId, sync, desiredRevision, { timeoutMs: 20_000, intervalMs: 50 });

/** What the agent booted from disk alone (no broker), then stopped again. */
async function bootedFromDisk(device: AgentIdentity): Promise<AgentStatus> {
  const agent = lab.agent(device, NO_BROKER);
  const status = await waitFor('the agent to show what it booted', () => {
    const seen = readStatusFile(device.stateDir);
    return seen && Date.parse(seen.updatedAt) >= agent.spawnedAt ? seen : null;
  });
  await agent.stop();
  return status;
}

const ruleIds = (rules: { id: string }[]) => rules.map((rule) => rule.id);
const tempFiles = (device: AgentIdentity) =>
  readdirSync(device.stateDir).filter((name) => TEMP_FILE.test(name));

type KillPoint = 'writing' | 'renamed' | 'delayed';

/**
 * SIGKILL at a point inside the apply, seen from outside through the state directory: `writing`
 * the moment the temp file of last-known-good appears (before its rename), `renamed` the moment
 * it is renamed into place (before the ack), `delayed` a few milliseconds after the change.
 */
function killAt(point: KillPoint, agent: AgentProcess, delayMs: number): () => void {
  if (point === 'delayed') {
    const timer = setTimeout(() => agent.child.kill('SIGKILL'), delayMs);
    return () => clearTimeout(timer);
  }
  const watcher = watch(agent.identity.stateDir, (_event, name) => {
    const hit =
      point === 'writing' ? name?.startsWith(`.${LAST_KNOWN_GOOD_FILE}.`) : name === LAST_KNOWN_GOOD_FILE;
    if (hit) agent.child.kill('SIGKILL');
  });
  return () => watcher.close();
}

describe('agent killed in the middle of applying a config', () => {
  it('boots exactly the old or the new revision after each kill, never a mix, and converges', async () => {
    const activated = await activatedDevice('SAGHARD-KILL1');
    const { broker, cloud, device, gatewayId, aclId } = activated;
    let agent = activated.agent;
    const tally = { old: 0, new: 0, tornWrites: 0 };
    const points: KillPoint[] = ['writing', 'renamed', 'delayed'];
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const point = points[round % points.length];
      const before = await gatewayConfig(cloud, gatewayId);
      const exited = new Promise((resolve) => agent.child.once('exit', resolve));
      // Set before the change, so a push that is quick to arrive is not missed.
      const disarm = point === 'delayed' ? () => undefined : killAt(point, agent, 0);
      await cloud.post(`/v1/acls/${aclId}/rules`, {
        name: `allow web ${round}`,
        direction: 'out',
        policy: 'accept',
        priority: 10 + round,
        protocol: 'tcp',
        sourceCidr: '0.0.0.0/0',
        sourcePortRange: '-1/-1',
        destCidr: '10.1.0.0/16',
        destPortRange: `${8000 + round}/${8000 + round}`,
      });
      const after = await gatewayConfig(cloud, gatewayId);
      expect(after.revision).toBeGreaterThan(before.revision);
      const disarmDelay = point === 'delayed' ? killAt(point, agent, 5 * round) : () => undefined;
      // A watched kill that never fires (the push was lost) must not hang the round.
      const fallback = setTimeout(() => agent.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(fallback);
      disarm();
      disarmDelay();
      if (tempFiles(device).some((name) => name.startsWith(`.${LAST_KNOWN_GOOD_FILE}`))) tally.tornWrites++;

      // On disk: a last-known-good that passes its hash and is one whole revision.
      const onDisk = await loadLastKnownGood(device.stateDir);
      expect(onDisk.error).toBeUndefined();
      const diskRevision = onDisk.config?.revision;
      expect([before.revision, after.revision]).toContain(diskRevision);

      // Booted with no broker: exactly that revision, hash and rule set, nothing else.
      const booted = await bootedFromDisk(device);
      const expected = booted.revision === after.revision ? after : before;
      expect(booted).toMatchObject({
        revision: expected.revision,
        hash: expected.hash,
        boot: { result: 'applied', revision: expected.revision, hash: expected.hash },
      });
      expect(booted.revision).toBe(diskRevision);
      expect(ruleIds(booted.aclRules)).toEqual(ruleIds(expected.config.aclRules));
      expect(tempFiles(device)).toEqual([]);
      // Renamed into place is committed: a kill after that point boots the new revision.
      if (point === 'renamed') expect(booted.revision).toBe(after.revision);
      tally[expected === after ? 'new' : 'old']++;

      // Back on the broker: its hello tells where it is; it ends on the new revision either way.
      agent = lab.agent(device, broker.mqttUrl);
      await waitForSync(cloud, gatewayId, 'in-sync', after.revision);
      if (expected === before) {
        await agent.waitForLog('config applied', { match: (entry) => entry.revision === after.revision });
      }
      const converged = await waitFor('status at the new revision', () => {
        const status = readStatusFile(device.stateDir);
        return status?.revision === after.revision && status.broker.state === 'connected' ? status : null;
      });
      expect(ruleIds(converged.aclRules)).toEqual(ruleIds(after.config.aclRules));
      // A device that booted the new revision had nothing re-pushed: its hello carried it.
      if (expected === after) {
        expect(agent.logEntries().filter((entry) => /^config /.test(entry.msg))).toEqual([]);
      }
    }
    console.info(`SIGKILL mid-apply: ${rounds} rounds`, tally);
    expect(tally.old + tally.new).toBe(rounds);
    // The rename is the commit point: killed while writing it boots old, killed just after it new.
    expect(tally.old).toBeGreaterThan(0);
    expect(tally.new).toBeGreaterThan(0);
  }, 90_000);
});

describe('a config that fails verification after it was applied', () => {
  it('is rolled back to last-known-good, acked rolled-back with the error, and shown failed', async () => {
    const broker = await lab.broker();
    const cloud = cloudApi(broker);
    const device = await initAgent('SAGHARD-VERIFY1');
    const gatewayId = await orderGatewayFor(cloud, 'Ningbo branch', device);
    // In process, with an emulated data plane that can be told to lose a route between apply and
    // verify, as if something on the box removed it: nothing outside the agent can do that.
    const dataPlane = new EmulatedDataPlane();
    const agent = await startAgent({ stateDir: device.stateDir, brokerUrl: broker.mqttUrl, dataPlane });
    try {
      await cloud.post(`/v1/gateways/${gatewayId}/activate`);
      // A private block that is exactly the LAN subnet: only the LAN route is in force, and that verifies.
      await cloud.put(`/v1/gateways/${gatewayId}/network`, { privateCidrs: ['172.16.0.0/24'], ccnId: null });
      await cloud.put(`/v1/gateways/${gatewayId}/ports`, {
        wan: [{ name: 'wan0', mode: 'dhcp' }],
        lan: [{ name: 'lan0', address: '172.16.0.1/24' }],
      });
      const good = await gatewayConfig(cloud, gatewayId);
      await waitForSync(cloud, gatewayId, 'in-sync', good.revision);

      dataPlane.loseRouteOnNextApply('172.17.0.0/16');
      await cloud.put(`/v1/gateways/${gatewayId}/network`, {
        privateCidrs: ['172.16.0.0/24', '172.17.0.0/16'],
        ccnId: null,
      });
      const bad = await gatewayConfig(cloud, gatewayId);
      const failed = await waitForSync(cloud, gatewayId, 'failed', bad.revision);
      expect(failed.appliedRevision).toBe(good.revision);
      expect(failed.syncError).toContain('verify found route 172.17.0.0/16 (private) is missing');
      expect(failed.syncError).toContain(`rolled back to revision ${good.revision}`);
      const failures = (await events(cloud, { resourceId: gatewayId })).filter(
        (e) => e.action === 'config.failed',
      );
      expect(failures.map((e) => e.details)).toEqual([
        expect.objectContaining({ revision: bad.revision, result: 'rolled-back' }),
      ]);

      // The device is back on last-known-good: in memory, on the data plane and on disk.
      expect(agent.status()).toMatchObject({ revision: good.revision, hash: good.hash });
      expect(dataPlane.snapshot().routes.map((r) => r.destination)).not.toContain('172.17.0.0/16');
      expect((await loadLastKnownGood(device.stateDir)).config).toMatchObject({
        revision: good.revision,
        hash: good.hash,
      });

      // The same change pushed again (a new revision) goes through.
      await cloud.put(`/v1/gateways/${gatewayId}/network`, {
        privateCidrs: ['172.16.0.0/24', '172.17.0.0/16', '172.18.0.0/16'],
        ccnId: null,
      });
      const fixed = await gatewayConfig(cloud, gatewayId);
      await waitForSync(cloud, gatewayId, 'in-sync', fixed.revision);
      expect(dataPlane.snapshot().routes.map((r) => r.destination)).toContain('172.17.0.0/16');
    } finally {
      await agent.close();
    }
  }, 40_000);
});

/** Ways the last-known-good file is damaged on the box; each must be caught at boot. */
const corruptions: [string, (text: string) => string, RegExp][] = [
  [
    'a flipped bit in a value',
    (text) => {
      const at = text.indexOf('"gatewayId": "') + '"gatewayId": "'.length;
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);
    },
    /sha256/,
  ],
  ['a truncated file', (text) => text.slice(0, Math.floor(text.length * 0.6)), /not valid JSON/],
  [
    'valid JSON claiming a later revision under the old hash',
    (text) => {
      const file = JSON.parse(text);
      file.config.revision += 1000;
      return JSON.stringify(file);
    },
    /sha256/,
  ],
];

describe('a corrupted last-known-good file', () => {
  it('is caught by its hash at boot, logged, not applied, and the config comes back from the broker', async () => {
    const { broker, cloud, device, gatewayId, agent: first } = await activatedDevice('SAGHARD-LKG1');
    const desired = await gatewayConfig(cloud, gatewayId);
    await first.stop();
    const path = join(device.stateDir, LAST_KNOWN_GOOD_FILE);
    for (const [what, corrupt, reason] of corruptions) {
      writeFileSync(path, corrupt(readFileSync(path, 'utf8')));
      const agent = lab.agent(device, broker.mqttUrl);
      const logged = await agent.waitForLog('last-known-good could not be applied; starting empty');
      expect(String(logged.error), what).toMatch(reason);
      expect(
        agent.logEntries().some((e) => e.msg === 'last-known-good applied'),
        what,
      ).toBe(false);

      // Recovered from the broker: applied, persisted whole, and in sync.
      await agent.waitForLog('config applied', { match: (e) => e.revision === desired.revision });
      await waitForSync(cloud, gatewayId, 'in-sync', desired.revision);
      const status = await waitFor('status after recovery', () => {
        const seen = readStatusFile(device.stateDir);
        return seen?.revision === desired.revision ? seen : null;
      });
      expect(status).toMatchObject({ hash: desired.hash, boot: { result: 'failed' } });
      expect((await loadLastKnownGood(device.stateDir)).config, what).toMatchObject({
        revision: desired.revision,
        hash: desired.hash,
      });
      await agent.stop();
    }
  }, 60_000);
});
