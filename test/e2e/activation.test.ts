import { afterEach, describe, expect, it } from 'vitest';
import { agentStatus, initAgent, readStatusFile } from '../support/agents.js';
import { cloudApi, gatewayConfig, gatewayStatus, orderGatewayFor } from '../support/cloud.js';
import { Lab } from '../support/lab.js';
import { waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

describe('a device started before its gateway is activated', () => {
  it('connects and waits, then applies its first config within a second of activate', async () => {
    const broker = await lab.broker();
    const cloud = cloudApi(broker);
    const device = await initAgent('SAGE2E-ACT1');
    const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', device);
    const agent = lab.agent(device, broker.mqttUrl);

    const waiting = await waitFor('the device online', async () => {
      const status = await gatewayStatus(cloud, gatewayId);
      return status.presence === 'online' ? status : null;
    });
    expect(waiting).toMatchObject({ lifecycle: 'shipped', appliedRevision: null, sync: 'pending' });
    await waitFor('the agent to write that it is connected', () => {
      const status = readStatusFile(device.stateDir);
      return status?.broker.state === 'connected' ? status : null;
    });
    const before = await agentStatus(device.stateDir);
    expect(before).toMatchObject({ agentState: 'waiting-for-activation', revision: null, hash: null });

    await cloud.post(`/v1/gateways/${gatewayId}/activate`);
    const activatedAt = Date.now();
    const inSync = await waitFor(
      'sync in-sync after activate',
      async () => {
        const status = await gatewayStatus(cloud, gatewayId);
        return status.sync === 'in-sync' ? status : null;
      },
      { intervalMs: 10 },
    );
    const elapsedMs = Date.now() - activatedAt;
    console.info(`activation → in-sync: ${elapsedMs} ms`);
    expect(elapsedMs).toBeLessThan(1000);

    expect(inSync.lifecycle).toBe('active');
    expect(inSync.appliedRevision).not.toBeNull();
    expect(inSync.appliedRevision).toBe(inSync.desiredRevision);
    await agent.waitForLog('gateway activated');
    const desired = await gatewayConfig(cloud, gatewayId);
    const applied = await agentStatus(device.stateDir);
    expect(applied).toMatchObject({ agentState: 'running', revision: desired.revision, hash: desired.hash });
    expect(applied.tunnels.map((t) => t.address)).toEqual(desired.config.tunnels.map((t) => t.address));
  }, 30_000);
});
