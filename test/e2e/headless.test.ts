import { afterEach, describe, expect, it } from 'vitest';
import { agentStatus, initAgent, readStatusFile } from '../support/agents.js';
import { cloudApi, events, gatewayConfig, gatewayStatus, orderGatewayFor } from '../support/cloud.js';
import { FAST_KEEPALIVE, Lab } from '../support/lab.js';
import { sleep, waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

describe('a branch without its broker', () => {
  it('keeps its config and tunnels, boots from last-known-good, and converges without a re-push', async () => {
    // A standby access point outside the broker keeps one tunnel alive while the broker is away.
    const standby = await lab.responder();
    const brokerConfig = {
      keepalive: FAST_KEEPALIVE,
      accessPoints: [{ id: 'ap-standby', address: standby.address }],
    };
    const broker = await lab.broker({ config: brokerConfig });
    const cloud = cloudApi(broker);
    const device = await initAgent('SAGE2E-HEAD1');
    const gatewayId = await orderGatewayFor(cloud, 'Ningbo branch', device);
    const agent = lab.agent(device, broker.mqttUrl);
    await cloud.post(`/v1/gateways/${gatewayId}/activate`);
    await waitFor('sync in-sync', async () => (await gatewayStatus(cloud, gatewayId)).sync === 'in-sync');
    const desired = await gatewayConfig(cloud, gatewayId);
    const appliedEvents = async () =>
      (await events(cloud, { resourceId: gatewayId })).filter((event) => event.action === 'config.applied');
    expect(await appliedEvents()).toHaveLength(1);

    // Broker stopped: the agent keeps what it applied and carries traffic on the standby.
    await broker.stop();
    await agent.waitForLog('tunnel failover', { match: (entry) => entry.accessPoint === 'ap-standby' });
    const headless = await agentStatus(device.stateDir);
    expect(headless).toMatchObject({ revision: desired.revision, hash: desired.hash, agentState: 'running' });
    expect(headless.broker.state).not.toBe('connected');
    expect(headless.tunnels.map((t) => [t.accessPoint, t.status, t.carrying])).toEqual([
      ['ap-embedded', 'down', false],
      ['ap-standby', 'up', true],
    ]);

    // Restarted while the broker is still down: last-known-good is applied at once.
    await agent.stop();
    const rebooted = lab.agent(device, broker.mqttUrl);
    const booted = await waitFor(
      'the restarted agent to show its last-known-good revision',
      () => {
        const status = readStatusFile(device.stateDir);
        const fresh = status && Date.parse(status.updatedAt) >= rebooted.spawnedAt;
        return fresh && status.boot.result === 'applied' ? status : null;
      },
      { intervalMs: 10 },
    );
    const bootMs = Date.now() - rebooted.spawnedAt;
    console.info(`agent start → last-known-good in status: ${bootMs} ms (no broker running)`);
    expect(bootMs).toBeLessThan(1500);
    expect(booted).toMatchObject({ revision: desired.revision, hash: desired.hash });
    expect(booted.broker.state).not.toBe('connected');
    await rebooted.waitForLog('last-known-good applied', { match: (e) => e.revision === desired.revision });
    await waitFor('the standby tunnel up again after the restart', () => {
      const carrying = readStatusFile(device.stateDir)?.tunnels.find((t) => t.carrying);
      return carrying?.accessPoint === 'ap-standby' && carrying.status === 'up';
    });
    expect(rebooted.logEntries().some((entry) => entry.msg === 'connected to the broker')).toBe(false);

    // The broker back on the same ports and data: the agent reconnects and nothing is re-pushed.
    const reconnectMark = rebooted.logEntries().length;
    const restarted = await lab.broker({
      dataDir: broker.dataDir,
      token: broker.token,
      http: broker.httpAddress,
      mqtt: broker.mqttAddress,
      accessPoint: broker.accessPointAddress,
      config: brokerConfig,
    });
    const cloudAgain = cloudApi(restarted);
    const converged = await waitFor(
      'the device online and in-sync on the restarted broker',
      async () => {
        const status = await gatewayStatus(cloudAgain, gatewayId);
        return status.presence === 'online' && status.sync === 'in-sync' ? status : null;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
    expect(converged.appliedRevision).toBe(desired.revision);
    expect(await gatewayConfig(cloudAgain, gatewayId)).toMatchObject({
      revision: desired.revision,
      hash: desired.hash,
    });
    await rebooted.waitForLog('connected to the broker');
    await sleep(1000);
    // Any config push the agent handled (applied, re-acked as a duplicate, refused) logs "config".
    const pushes = rebooted
      .logEntries()
      .slice(reconnectMark)
      .filter((entry) => /config/.test(entry.msg));
    expect(pushes).toEqual([]);
    expect(await appliedEvents()).toHaveLength(1);
    expect(await agentStatus(device.stateDir)).toMatchObject({
      revision: desired.revision,
      hash: desired.hash,
      broker: expect.objectContaining({ state: 'connected' }),
    });
  }, 60_000);
});
