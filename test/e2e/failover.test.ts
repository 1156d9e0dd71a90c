import { afterEach, describe, expect, it } from 'vitest';
import { type AgentLogEntry, initAgent, readStatusFile } from '../support/agents.js';
import { cloudApi, events, gatewayStatus, lastEventId, orderGatewayFor } from '../support/cloud.js';
import { FAST_KEEPALIVE, Lab } from '../support/lab.js';
import { sleep, waitFor } from '../support/waitFor.js';

const lab = new Lab();
afterEach(() => lab.cleanup());

const { intervalMs, multiplier, holdDownMs } = FAST_KEEPALIVE;
/** Timers and pipes between two processes on a shared machine are not exact. */
const SCHEDULING_SLACK_MS = 150;

const TUNNEL_LOGS = ['tunnel tunnel-down', 'tunnel tunnel-up', 'tunnel failover', 'tunnel failback'];
const eventTime = (entry: AgentLogEntry) =>
  typeof entry.at === 'number' ? entry.at : Date.parse(entry.time);

describe('tunnel keepalive against the broker’s embedded access point', () => {
  it('fails over to the standby when the access point stops answering and back once after the hold-down', async () => {
    const standby = await lab.responder();
    const broker = await lab.broker({
      config: { keepalive: FAST_KEEPALIVE, accessPoints: [{ id: 'ap-standby', address: standby.address }] },
    });
    const cloud = cloudApi(broker);
    const device = await initAgent('SAGE2E-FAIL1');
    const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', device);
    const agent = lab.agent(device, broker.mqttUrl);
    await cloud.post(`/v1/gateways/${gatewayId}/activate`);
    await waitFor('both tunnels up, traffic on the embedded access point', () => {
      const tunnels = readStatusFile(device.stateDir)?.tunnels ?? [];
      const [active, backup] = tunnels;
      return (
        tunnels.length === 2 &&
        active.accessPoint === 'ap-embedded' &&
        active.status === 'up' &&
        active.carrying &&
        backup.accessPoint === 'ap-standby' &&
        backup.status === 'up'
      );
    });
    await waitFor('sync in-sync', async () => (await gatewayStatus(cloud, gatewayId)).sync === 'in-sync');
    const marker = await lastEventId(cloud);
    const logMark = agent.logEntries().length;
    const tunnelLog = () =>
      agent
        .logEntries()
        .slice(logMark)
        .filter((entry) => TUNNEL_LOGS.includes(entry.msg));

    // SIGSTOP: the whole broker, its embedded access point included, goes silent at once.
    const pausedAt = Date.now();
    broker.pause();
    const failover = await agent.waitForLog('tunnel failover', { fromIndex: logMark, timeoutMs: 5000 });
    const failoverMs = eventTime(failover) - pausedAt;
    console.info(`access point silent → failover: ${Math.round(failoverMs)} ms`);
    expect(failover).toMatchObject({ accessPoint: 'ap-standby', from: 'ap-embedded' });
    // Silent since the last reply before the pause: down within interval × multiplier of it.
    expect(failoverMs).toBeLessThanOrEqual(intervalMs * multiplier + SCHEDULING_SLACK_MS);
    await sleep(500);
    expect(tunnelLog().map((entry) => [entry.msg, entry.accessPoint])).toEqual([
      ['tunnel tunnel-down', 'ap-embedded'],
      ['tunnel failover', 'ap-standby'],
    ]);
    expect(readStatusFile(device.stateDir)?.tunnels.find((t) => t.carrying)?.accessPoint).toBe('ap-standby');

    const resumedAt = Date.now();
    broker.resume();
    const failback = await agent.waitForLog('tunnel failback', { fromIndex: logMark, timeoutMs: 5000 });
    const failbackMs = eventTime(failback) - resumedAt;
    console.info(`access point back → failback: ${Math.round(failbackMs)} ms (hold-down ${holdDownMs} ms)`);
    expect(failback).toMatchObject({ accessPoint: 'ap-embedded', from: 'ap-standby' });
    expect(failbackMs).toBeGreaterThanOrEqual(holdDownMs - 20);
    expect(failbackMs).toBeLessThanOrEqual(holdDownMs + 2 * intervalMs + SCHEDULING_SLACK_MS);

    // No flapping: one move each way, and it stays back on the active.
    await sleep(holdDownMs + 500);
    expect(tunnelLog().map((entry) => [entry.msg, entry.accessPoint])).toEqual([
      ['tunnel tunnel-down', 'ap-embedded'],
      ['tunnel failover', 'ap-standby'],
      ['tunnel tunnel-up', 'ap-embedded'],
      ['tunnel failback', 'ap-embedded'],
    ]);
    expect(readStatusFile(device.stateDir)?.tunnels.find((t) => t.carrying)?.accessPoint).toBe('ap-embedded');

    // The events sent while the broker was frozen arrive once it runs again.
    const expected = ['tunnel.down', 'tunnel.failover', 'tunnel.up', 'tunnel.failback'];
    const recorded = await waitFor('the tunnel events in the API', async () => {
      const found = await events(cloud, { category: 'device', resourceId: gatewayId }, marker);
      const tunnelEvents = found.filter((event) => event.action.startsWith('tunnel.'));
      return tunnelEvents.length >= expected.length ? tunnelEvents : null;
    });
    expect(recorded.map((event) => event.action)).toEqual(expected);
    expect(recorded.map((event) => event.details?.accessPoint)).toEqual([
      'ap-embedded',
      'ap-standby',
      'ap-embedded',
      'ap-embedded',
    ]);
  }, 30_000);
});
