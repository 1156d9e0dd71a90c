import { afterEach, describe, expect, it } from 'vitest';
import { type AgentIdentity, agentStatus, initAgent } from '../support/agents.js';
import {
  type Cloud,
  cloudApi,
  events,
  gatewayConfig,
  orderGatewayFor,
  waitForSync,
} from '../support/cloud.js';
import { Lab } from '../support/lab.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

/** A device running its agent against a fresh broker, activated and in sync. */
async function activatedDevice(serialNumber: string) {
  const broker = await lab.broker();
  const cloud = cloudApi(broker);
  const device = await initAgent(serialNumber);
  const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', device);
  const agent = lab.agent(device, broker.mqttUrl);
  await cloud.post(`/v1/gateways/${gatewayId}/activate`);
  await waitForSync(cloud, gatewayId, 'in-sync');
  return { broker, cloud, device, gatewayId, agent };
}

/** Makes a change through the API and returns the new desired revision, checking it went up. */
async function change(cloud: Cloud, gatewayId: string, mutate: () => Promise<unknown>) {
  const before = await gatewayConfig(cloud, gatewayId);
  await mutate();
  const after = await gatewayConfig(cloud, gatewayId);
  expect(after.revision).toBeGreaterThan(before.revision);
  return after;
}

async function expectAgentRuns(device: AgentIdentity, revision: number, hash: string) {
  const status = await agentStatus(device.stateDir);
  expect(status).toMatchObject({ revision, hash, agentState: 'running' });
  return status;
}

describe('config push through the API to a running agent', () => {
  it('delivers an ACL and a network change, each applied and acked', async () => {
    const { cloud, device, gatewayId } = await activatedDevice('SAGE2E-PUSH1');
    const acl = await cloud.post<{ id: string }>('/v1/acls', { name: 'Branch firewall' });
    const rule = await cloud.post<{ id: string }>(`/v1/acls/${acl.id}/rules`, {
      name: 'deny ssh to the Shanghai VPC',
      direction: 'out',
      policy: 'drop',
      priority: 1,
      protocol: 'tcp',
      sourceCidr: '0.0.0.0/0',
      sourcePortRange: '-1/-1',
      destCidr: '10.1.0.0/16',
      destPortRange: '22/22',
    });

    const withAcl = await change(cloud, gatewayId, () =>
      cloud.put(`/v1/gateways/${gatewayId}/acl`, { aclId: acl.id }),
    );
    const synced = await waitForSync(cloud, gatewayId, 'in-sync', withAcl.revision);
    expect(synced.appliedRevision).toBe(withAcl.revision);
    const applied = await expectAgentRuns(device, withAcl.revision, withAcl.hash);
    expect(applied.aclRules).toEqual([
      expect.objectContaining({ id: rule.id, policy: 'drop', protocol: 'tcp', destPortRange: '22/22' }),
    ]);

    const withNetwork = await change(cloud, gatewayId, () =>
      cloud.put(`/v1/gateways/${gatewayId}/network`, { privateCidrs: ['172.16.0.0/16'], ccnId: null }),
    );
    await waitForSync(cloud, gatewayId, 'in-sync', withNetwork.revision);
    await expectAgentRuns(device, withNetwork.revision, withNetwork.hash);

    const acks = (await events(cloud, { resourceId: gatewayId, category: 'device' }))
      .filter((event) => event.action === 'config.applied')
      .map((event) => event.details?.revision);
    expect(acks).toEqual(expect.arrayContaining([withAcl.revision, withNetwork.revision]));
  }, 30_000);

  it('rolls back a config naming a port the box does not have and shows it failed with the device error', async () => {
    const { cloud, device, gatewayId, agent } = await activatedDevice('SAGE2E-PUSH2');
    const good = await change(cloud, gatewayId, () =>
      cloud.put(`/v1/gateways/${gatewayId}/network`, { privateCidrs: ['172.16.0.0/16'], ccnId: null }),
    );
    await waitForSync(cloud, gatewayId, 'in-sync', good.revision);

    const bad = await change(cloud, gatewayId, () =>
      cloud.put(`/v1/gateways/${gatewayId}/ports`, {
        wan: [{ name: 'wan0', mode: 'dhcp' }],
        lan: [{ name: 'lan9', address: '172.16.0.1/24' }],
      }),
    );
    const failed = await waitForSync(cloud, gatewayId, 'failed', bad.revision);
    expect(failed.appliedRevision).toBe(good.revision);
    expect(failed.syncError).toMatch(/lan9/);

    expect(agent.running()).toBe(true);
    await agent.waitForLog('config rolled-back', { match: (entry) => entry.revision === bad.revision });
    const kept = await expectAgentRuns(device, good.revision, good.hash);
    expect(kept.ports.map((port) => port.name)).not.toContain('lan9');

    const failures = (await events(cloud, { resourceId: gatewayId })).filter(
      (event) => event.action === 'config.failed',
    );
    expect(failures).toHaveLength(1);
    expect(failures[0].details).toMatchObject({ revision: bad.revision, result: 'rolled-back' });
    expect(String(failures[0].details?.error)).toMatch(/lan9/);

    // A config the box can apply is taken again after the failure.
    const fixed = await change(cloud, gatewayId, () =>
      cloud.put(`/v1/gateways/${gatewayId}/ports`, {
        wan: [{ name: 'wan0', mode: 'dhcp' }],
        lan: [{ name: 'lan0', address: '172.16.0.1/24' }],
      }),
    );
    await waitForSync(cloud, gatewayId, 'in-sync', fixed.revision);
    const recovered = await expectAgentRuns(device, fixed.revision, fixed.hash);
    expect(recovered.ports.map((port) => port.name)).toContain('lan0');
  }, 30_000);
});
