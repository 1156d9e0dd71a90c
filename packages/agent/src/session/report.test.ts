import {
  decodeEvent,
  decodeHello,
  decodeReport,
  encodeEvent,
  encodeHello,
  encodeReport,
} from '@opensag/proto';
import { describe, expect, it } from 'vitest';
import type { DataPlane } from '../dataplane/dataplane.js';
import type { TunnelStats } from '../keepalive/tunnelMonitor.js';
import { runProbe } from './command.js';
import { buildHello } from './hello.js';
import { buildReport, tunnelEventMessage } from './report.js';

const STATS: TunnelStats = {
  accessPoint: 'ap-sh-1',
  address: '127.0.0.1:7000',
  role: 'active',
  status: 'unknown',
  carrying: true,
  rttMs: null,
  averageRttMs: null,
  lossPercent: 25,
  jitterMs: 1.5,
  probesSent: 4,
  repliesReceived: 3,
  consecutiveMisses: 1,
  statusSince: null,
};

describe('messages built from the agent state', () => {
  it('reports tunnels in wire form; a tunnel not yet heard from counts as down', () => {
    const report = decodeReport(
      encodeReport(
        buildReport({
          appliedRevision: 3,
          tunnels: [STATS, { ...STATS, accessPoint: 'ap-sh-2', status: 'up', rttMs: 12.5, carrying: false }],
          ports: [{ name: 'wan1', kind: 'wan', status: 'up', mode: 'dhcp' }],
          uptimeMs: 1234.7,
        }),
      ),
    );
    expect(report.tunnels).toEqual([
      expect.objectContaining({
        accessPoint: 'ap-sh-1',
        state: 'down',
        rttMs: 0,
        lossPct: 25,
        probesLost: 1,
      }),
      expect.objectContaining({ accessPoint: 'ap-sh-2', state: 'up', rttMs: 12.5, carryingTraffic: false }),
    ]);
    expect(report.ports).toEqual([
      { name: 'wan1', kind: 'wan', state: 'up', address: '', mode: 'dhcp', error: '' },
    ]);
    expect(report).toMatchObject({ appliedRevision: 3, uptimeMs: 1234 });
  });

  it('describes tunnel events for the operator', () => {
    const event = decodeEvent(
      encodeEvent(
        tunnelEventMessage({ kind: 'failover', accessPoint: 'ap-sh-2', from: 'ap-sh-1', at: 10.6 }, 3),
      ),
    );
    expect(event).toMatchObject({ kind: 'FAILOVER', accessPoint: 'ap-sh-2', atMs: 10 });
    expect(event.detail).toBe('traffic moved from ap-sh-1 to ap-sh-2');
    const down = tunnelEventMessage({ kind: 'tunnel-down', accessPoint: 'ap-sh-1', at: 1 }, 3);
    expect(down).toMatchObject({ kind: 'TUNNEL_DOWN', detail: expect.stringContaining('3 probes in a row') });
  });

  it('says hello with the applied revision and LAN ports without a WAN mode', () => {
    const hello = decodeHello(
      encodeHello(
        buildHello({
          applied: { revision: 4, hash: 'h4' },
          ports: [{ name: 'lan1', kind: 'lan', status: 'up', address: '172.16.0.1/24' }],
          state: 'running',
          dataplane: 'emulated',
          role: 'branch',
          model: 'opensag-emulated',
          agentVersion: '9.9.9',
        }),
      ),
    );
    expect(hello).toMatchObject({
      appliedRevision: 4,
      appliedHash: 'h4',
      agentVersion: '9.9.9',
      ports: [{ name: 'lan1', kind: 'lan', state: 'up', address: '172.16.0.1/24', mode: '' }],
    });
  });
});

describe('runProbe', () => {
  const request = {
    probeId: 'p1',
    destination: '10.1.0.1',
    protocol: 'icmp' as const,
    port: 0,
    timeoutMs: 50,
  };

  it('answers unreachable when the data plane does not answer in time', async () => {
    const silent = { probe: () => new Promise(() => undefined) } as unknown as DataPlane;
    expect(await runProbe(silent, request, 'SN-1')).toEqual({
      probeId: 'p1',
      reachable: false,
      rttMs: 0,
      reason: 'no answer within 50 ms',
      seenBy: 'SN-1',
    });
  });

  it('answers unreachable with the reason when the data plane fails', async () => {
    const broken = { probe: () => Promise.reject(new Error('closed')) } as unknown as DataPlane;
    const result = await runProbe(broken, request, 'SN-1');
    expect(result).toMatchObject({ reachable: false, reason: expect.stringContaining('closed') });
  });
});
