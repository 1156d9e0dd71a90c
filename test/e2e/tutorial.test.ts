// SPEC §2, the reference scenario, with real processes: one sag-broker, two `sag-agent run`
// processes made with `sag-agent init`, everything driven over the HTTP API by the very step
// functions `npm run lab` uses. The steps share one broker, so they run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessMatrix,
  activateGateways,
  apiClient,
  authorizeBranches,
  BRANCHES,
  bindDevices,
  configureNetwork,
  createGateways,
  createInstances,
  VPCS,
} from '../../scripts/scenario.mjs';
import {
  type AgentIdentity,
  type AgentProcess,
  agentStatus,
  initAgent,
  readStatusFile,
} from '../support/agents.js';
import { Lab } from '../support/lab.js';
import type { BrokerProcess } from '../support/processes.js';
import { waitFor } from '../support/waitFor.js';

interface Hop {
  kind: string;
  resourceId: string;
  verdict: 'pass' | 'block';
  reason: string;
}
interface AccessAnswer {
  reachable: boolean;
  reason: string;
  hops: Hop[];
}
interface MatrixEntry extends AccessAnswer {
  from: string;
  to: string;
}
interface ProbeAnswer {
  reachable: boolean;
  rttMs?: number;
  reason: string;
  seenBy: string;
}
interface Status {
  lifecycle: string;
  presence: string;
  sync: string;
  desiredRevision: number | null;
  appliedRevision: number | null;
}
interface ScenarioIds {
  gateways: string[];
  vpcs: string[];
  instances: string[];
  securityGroups: string[];
  cen: string;
  ccn: string;
}
type Api = ReturnType<typeof apiClient>;

const lab = new Lab();
let broker: BrokerProcess;
let api: Api;
const ids = {} as ScenarioIds;
const identities: AgentIdentity[] = [];
const agents: AgentProcess[] = [];
const [HANGZHOU, NINGBO] = [0, 1];
const [SHANGHAI, BEIJING] = [0, 1];

beforeAll(async () => {
  broker = await lab.broker();
  api = apiClient(broker.url, broker.token);
});
afterAll(() => lab.cleanup());

const status = (gatewayId: string): Promise<Status> => api.get(`/v1/gateways/${gatewayId}/status`);

/** Polls until the device has applied the gateway's current desired revision; returns the wait. */
async function untilInSync(gatewayId: string, since: number) {
  const reached = await waitFor(
    `${gatewayId} in sync`,
    async () => {
      const now = await status(gatewayId);
      const applied = now.sync === 'in-sync' && now.appliedRevision === now.desiredRevision;
      return applied ? now : null;
    },
    { intervalMs: 10 },
  );
  return { status: reached, ms: Date.now() - since };
}

async function bothInSync(what: string, since: number) {
  const results = [];
  for (const gatewayId of ids.gateways) results.push(await untilInSync(gatewayId, since));
  console.info(`${what} → both devices in sync: ${results.map((r) => `${r.ms} ms`).join(', ')}`);
  return results;
}

const probe = (
  gatewayId: string,
  destination: string,
  protocol: string,
  port?: number,
): Promise<ProbeAnswer> =>
  api.post(`/v1/gateways/${gatewayId}/probes`, { destination, protocol, ...(port ? { port } : {}) });

const accessTest = (
  branch: number,
  destination: object,
  protocol: string,
  port?: number,
): Promise<AccessAnswer> =>
  api.post('/v1/access-tests', {
    source: { gatewayId: ids.gateways[branch], ip: BRANCHES[branch].client },
    destination,
    protocol,
    ...(port ? { port } : {}),
  });

describe('the reference scenario (SPEC §2) with a real broker and two real agents', () => {
  it('step 1: buys a gateway for each branch', async () => {
    await createGateways(api, ids);
    expect(ids.gateways).toHaveLength(2);
    for (const [index, gatewayId] of ids.gateways.entries()) {
      const gateway = await api.get(`/v1/gateways/${gatewayId}`);
      expect(gateway).toMatchObject({ name: BRANCHES[index].name, spec: 'sag-100wm', lifecycle: 'ordered' });
    }
  });

  it('step 2: binds each device made by `sag-agent init`; the running agents connect and wait', async () => {
    for (const branch of BRANCHES) identities.push(await initAgent(branch.serial));
    const devices = Object.fromEntries(
      identities.map(({ serialNumber, publicKey }) => [serialNumber, { serialNumber, publicKey }]),
    );
    await bindDevices(api, ids, devices);
    for (const identity of identities) agents.push(lab.agent(identity, broker.mqttUrl));

    for (const [index, gatewayId] of ids.gateways.entries()) {
      const waiting = await waitFor(`${BRANCHES[index].name} device online`, async () => {
        const now = await status(gatewayId);
        return now.presence === 'online' ? now : null;
      });
      expect(waiting).toMatchObject({ lifecycle: 'shipped', appliedRevision: null });
      await waitFor('the agent waiting for activation', () => {
        const device = readStatusFile(identities[index].stateDir);
        return device?.agentState === 'waiting-for-activation' && device.broker.state === 'connected';
      });
    }
  });

  it('step 3: activation brings both devices in sync with their first config', async () => {
    const since = Date.now();
    await activateGateways(api, ids);
    const results = await bothInSync('activate', since);
    for (const { status: now } of results) {
      expect(now).toMatchObject({ lifecycle: 'active', presence: 'online', sync: 'in-sync' });
      expect(now.appliedRevision).not.toBeNull();
    }
    for (const identity of identities) {
      expect((await agentStatus(identity.stateDir)).agentState).toBe('running');
    }
  });

  it('step 4: the network change reaches both devices as routes to the other branch and both VPCs', async () => {
    const since = Date.now();
    await configureNetwork(api, ids);
    await bothInSync('network', since);
    for (const [index, identity] of identities.entries()) {
      const other = BRANCHES[1 - index].cidr;
      const applied = await agentStatus(identity.stateDir);
      const tunnelRoutes = applied.routes.filter((r) => r.kind === 'tunnel').map((r) => r.destination);
      expect(tunnelRoutes.sort()).toEqual([VPCS[SHANGHAI].cidr, VPCS[BEIJING].cidr, other].sort());
    }
  });

  it('step 6 before step 5: no branch reaches a VPC instance, and the answer names its security group', async () => {
    await createInstances(api, ids);
    const before: MatrixEntry[] = await accessMatrix(api, ids);
    expect(before).toHaveLength(4);
    for (const result of before) {
      const group = ids.securityGroups[VPCS.findIndex((vpc) => vpc.name === result.to)];
      expect(result.reachable, `${result.from} → ${result.to}`).toBe(false);
      expect(result.reason).toContain(group);
      const blocking = result.hops.find((hop) => hop.verdict === 'block');
      expect(blocking).toMatchObject({ kind: 'security-group-ingress', resourceId: group });
    }
  });

  it('step 5 then 6: with the branch blocks authorized, both branches reach both instances', async () => {
    await authorizeBranches(api, ids);
    const after: MatrixEntry[] = await accessMatrix(api, ids);
    expect(after.map((r) => [r.from, r.to, r.reachable, r.reason])).toEqual(
      BRANCHES.flatMap((b) => VPCS.map((v) => [b.name, v.name, true, expect.any(String)])),
    );
    for (const result of after) expect(result.hops.every((hop) => hop.verdict === 'pass')).toBe(true);
  });

  it('the two branches reach each other through the CCN, both ways', async () => {
    for (const [from, to] of [
      [HANGZHOU, NINGBO],
      [NINGBO, HANGZHOU],
    ]) {
      const answer = await accessTest(from, { ip: BRANCHES[to].client }, 'icmp');
      expect(answer.reachable, `${BRANCHES[from].name} → ${BRANCHES[to].name}: ${answer.reason}`).toBe(true);
      expect(answer.hops.map((hop) => hop.resourceId)).toContain(ids.ccn);
    }
  });

  it('a live probe is answered by the device itself over its tunnel', async () => {
    for (const identity of identities) {
      await waitFor(`${identity.serialNumber} tunnel up`, () =>
        readStatusFile(identity.stateDir)?.tunnels.some((t) => t.carrying && t.status === 'up'),
      );
    }
    const rtts: string[] = [];
    for (const [branch, vpc] of [
      [HANGZHOU, SHANGHAI],
      [NINGBO, BEIJING],
    ]) {
      const answer = await probe(ids.gateways[branch], VPCS[vpc].instanceIp, 'tcp', 22);
      expect(answer, answer.reason).toMatchObject({ reachable: true, seenBy: BRANCHES[branch].serial });
      expect(answer.rttMs).toBeGreaterThanOrEqual(0);
      rtts.push(`${BRANCHES[branch].serial} → ${VPCS[vpc].instanceIp}: ${answer.rttMs?.toFixed(2)} ms`);
    }
    console.info(`live probe RTTs: ${rtts.join(', ')}`);
  });

  it('a gateway ACL on Hangzhou dropping ssh to Shanghai blocks it in the analysis and on the device', async () => {
    const hangzhou = ids.gateways[HANGZHOU];
    const shanghaiIp = VPCS[SHANGHAI].instanceIp;
    const acl = await api.post('/v1/acls', { name: 'Hangzhou firewall' });
    const rule = await api.post(`/v1/acls/${acl.id}/rules`, {
      name: 'deny ssh to Shanghai',
      direction: 'out',
      policy: 'drop',
      priority: 10,
      protocol: 'tcp',
      sourceCidr: '0.0.0.0/0',
      sourcePortRange: '-1/-1',
      destCidr: VPCS[SHANGHAI].cidr,
      destPortRange: '22/22',
    });
    const before = await status(hangzhou);
    const since = Date.now();
    await api.put(`/v1/gateways/${hangzhou}/acl`, { aclId: acl.id });
    const { status: synced, ms } = await untilInSync(hangzhou, since);
    console.info(`ACL attached → Hangzhou in sync: ${ms} ms`);
    expect(synced.appliedRevision).toBeGreaterThan(before.appliedRevision ?? 0);
    const applied = await agentStatus(identities[HANGZHOU].stateDir);
    expect(applied.aclRules.map((r) => r.id)).toEqual([rule.id]);

    const ssh = await accessTest(HANGZHOU, { instanceId: ids.instances[SHANGHAI] }, 'tcp', 22);
    expect(ssh.reachable).toBe(false);
    expect(ssh.reason).toContain('deny ssh to Shanghai');
    expect(ssh.hops.find((hop) => hop.verdict === 'block')).toMatchObject({
      kind: 'acl-out',
      resourceId: acl.id,
    });
    const sshProbe = await probe(hangzhou, shanghaiIp, 'tcp', 22);
    expect(sshProbe).toMatchObject({ reachable: false, seenBy: BRANCHES[HANGZHOU].serial });
    expect(sshProbe.reason).toContain('deny ssh to Shanghai');
    expect(sshProbe.reason).toContain(rule.id);

    const https = await accessTest(HANGZHOU, { instanceId: ids.instances[SHANGHAI] }, 'tcp', 443);
    expect(https.reachable, https.reason).toBe(true);
    expect((await probe(hangzhou, shanghaiIp, 'tcp', 443)).reachable).toBe(true);

    const ningboSsh = await accessTest(NINGBO, { instanceId: ids.instances[SHANGHAI] }, 'tcp', 22);
    expect(ningboSsh.reachable, ningboSsh.reason).toBe(true);
    const ningboProbe = await probe(ids.gateways[NINGBO], shanghaiIp, 'tcp', 22);
    expect(ningboProbe).toMatchObject({ reachable: true, seenBy: BRANCHES[NINGBO].serial });
    expect((await agentStatus(identities[NINGBO].stateDir)).aclRules).toEqual([]);
    expect(agents.map((agent) => agent.running())).toEqual([true, true]);
  });
});
