import { describe, expect, it } from 'vitest';
import type { KeepaliveSettings, TunnelConfig } from '../config.js';
import { FakeClock } from './fakeClock.js';
import { FakeProbeTransport } from './fakeTransport.js';
import { type TunnelEvent, TunnelMonitor } from './tunnelMonitor.js';

const ACTIVE = '10.0.0.1:7000';
const STANDBY = '10.0.0.2:7000';
const TUNNELS: TunnelConfig[] = [
  { accessPoint: 'ap-1', address: ACTIVE, role: 'active' },
  { accessPoint: 'ap-2', address: STANDBY, role: 'standby' },
];
const KEEPALIVE: KeepaliveSettings = { intervalMs: 1000, multiplier: 3, lossWindow: 10, holdDownMs: 10_000 };
const T0 = 1_000_000;

function setup(
  options: {
    tunnels?: TunnelConfig[];
    keepalive?: Partial<KeepaliveSettings>;
    /** Adjusts the responders before the first probe goes out. */
    before?: (transport: FakeProbeTransport) => void;
  } = {},
) {
  const clock = new FakeClock(T0);
  const transport = new FakeProbeTransport(clock);
  transport.respond(ACTIVE, true, 10);
  transport.respond(STANDBY, true, 30);
  options.before?.(transport);
  const monitor = new TunnelMonitor({
    clock,
    transport,
    tunnels: options.tunnels ?? TUNNELS,
    keepalive: { ...KEEPALIVE, ...options.keepalive },
  });
  const events: TunnelEvent[] = [];
  monitor.onEvent((event) => events.push(event));
  const kinds = () => events.map((e) => `${e.kind} ${e.accessPoint} +${e.at - T0}`);
  monitor.start();
  return { clock, transport, monitor, events, kinds };
}

const statsOf = (monitor: TunnelMonitor, accessPoint: string) =>
  monitor.stats().find((s) => s.accessPoint === accessPoint)!;

describe('TunnelMonitor', () => {
  it('probes every access point each interval and brings tunnels up on their first reply', () => {
    const { clock, transport, monitor, kinds } = setup();
    clock.advance(2500);
    expect(transport.sent.map((s) => `${s.address} +${s.at - T0}`)).toEqual([
      `${ACTIVE} +0`,
      `${STANDBY} +0`,
      `${ACTIVE} +1000`,
      `${STANDBY} +1000`,
      `${ACTIVE} +2000`,
      `${STANDBY} +2000`,
    ]);
    expect(kinds()).toEqual(['tunnel-up ap-1 +10', 'tunnel-up ap-2 +30']);
    expect(monitor.carrier()).toBe('ap-1');
    expect(statsOf(monitor, 'ap-1')).toMatchObject({
      status: 'up',
      carrying: true,
      rttMs: 10,
      probesSent: 3,
      repliesReceived: 3,
    });
  });

  it('declares a tunnel down once silent for exactly multiplier intervals since its last reply, and fails over', () => {
    const { clock, transport, monitor, kinds } = setup();
    clock.advance(5500); // the last reply came at +5010
    transport.respond(ACTIVE, false); // the probe sent at +6000 is the first to go unanswered
    clock.advance(8009 - 5500);
    expect(kinds()).toHaveLength(2);
    expect(statsOf(monitor, 'ap-1')).toMatchObject({ status: 'up', consecutiveMisses: 2 });
    clock.advance(1);
    // Whenever the active died after +5010, traffic moved within 3 × 1000 ms of it.
    expect(kinds().slice(2)).toEqual(['tunnel-down ap-1 +8010', 'failover ap-2 +8010']);
    expect(monitor.carrier()).toBe('ap-2');
    expect(monitor.linkStates()).toEqual([
      { accessPoint: 'ap-1', status: 'down', carrying: false, rttMs: 10 },
      { accessPoint: 'ap-2', status: 'up', carrying: true, rttMs: 30 },
    ]);
  });

  it('fails back only after the active has been up for the hold-down time', () => {
    const { clock, transport, monitor, events, kinds } = setup();
    clock.advance(5500);
    transport.respond(ACTIVE, false);
    clock.advance(4000); // +9500: down since +8010, on standby
    transport.respond(ACTIVE, true); // the probe at +10000 is answered at +10010
    clock.advance(510);
    expect(kinds().at(-1)).toBe('tunnel-up ap-1 +10010');
    clock.advance(9999);
    expect(monitor.carrier()).toBe('ap-2');
    clock.advance(1);
    expect(kinds().at(-1)).toBe('failback ap-1 +20010');
    expect(events.at(-1)).toMatchObject({ kind: 'failback', accessPoint: 'ap-1', from: 'ap-2' });
    expect(monitor.carrier()).toBe('ap-1');
  });

  it('does not fail back to an active that keeps flapping', () => {
    const { clock, transport, monitor, kinds } = setup();
    clock.advance(500);
    // Up for 2 s, silent for 4 s, over and over: never up for the 10 s hold-down.
    for (let cycle = 0; cycle < 8; cycle++) {
      transport.respond(ACTIVE, false);
      clock.advance(4000);
      transport.respond(ACTIVE, true);
      clock.advance(2000);
    }
    const failovers = kinds().filter((k) => k.startsWith('failover') || k.startsWith('failback'));
    expect(failovers).toEqual(['failover ap-2 +3010']);
    expect(kinds().filter((k) => k.startsWith('tunnel-down ap-1'))).toHaveLength(8);
    expect(monitor.carrier()).toBe('ap-2');
    clock.advance(10_000);
    expect(kinds().at(-1)).toMatch(/^failback ap-1/);
  });

  it('moves straight back to a recovered active when the standby fails during hold-down', () => {
    const { clock, transport, monitor, kinds } = setup();
    clock.advance(500);
    transport.respond(ACTIVE, false);
    clock.advance(4000); // +3010 failover (silent since +10)
    transport.respond(ACTIVE, true);
    clock.advance(1000); // active up at +5010, hold-down runs
    transport.respond(STANDBY, false); // at +5500, so probes from +6000 go unanswered
    clock.advance(4000);
    // The standby last answered at +5030.
    expect(kinds().slice(-2)).toEqual(['tunnel-down ap-2 +8030', 'failover ap-1 +8030']);
    expect(monitor.carrier()).toBe('ap-1');
  });

  it('keeps traffic on a dead active when the standby is dead too, and fails over when the standby returns', () => {
    const { clock, transport, monitor, kinds } = setup({
      before: (transport) => {
        transport.respond(ACTIVE, false);
        transport.respond(STANDBY, false);
      },
    });
    clock.advance(3500);
    expect(kinds()).toEqual(['tunnel-down ap-1 +3000', 'tunnel-down ap-2 +3000']);
    expect(monitor.carrier()).toBe('ap-1');
    transport.respond(STANDBY, true);
    clock.advance(1000);
    expect(kinds().slice(-2)).toEqual(['tunnel-up ap-2 +4030', 'failover ap-2 +4030']);
  });

  it('with a single tunnel only reports it down and up', () => {
    const { clock, transport, monitor, kinds } = setup({ tunnels: [TUNNELS[0]] });
    clock.advance(500);
    transport.respond(ACTIVE, false);
    clock.advance(4000);
    transport.respond(ACTIVE, true);
    clock.advance(1000);
    expect(kinds()).toEqual(['tunnel-up ap-1 +10', 'tunnel-down ap-1 +3010', 'tunnel-up ap-1 +5010']);
    expect(monitor.carrier()).toBe('ap-1');
  });

  it('measures RTT, loss over the window and jitter', () => {
    const { clock, transport, monitor } = setup({ tunnels: [TUNNELS[0]], keepalive: { lossWindow: 4 } });
    // Probes at +0..+3000 answered in 10, 20, 10, 20 ms.
    for (const rtt of [20, 10, 20]) {
      clock.advance(500);
      transport.respond(ACTIVE, true, rtt);
      clock.advance(500);
    }
    clock.advance(500);
    expect(statsOf(monitor, 'ap-1')).toMatchObject({
      rttMs: 20,
      averageRttMs: 15,
      jitterMs: 10,
      lossPercent: 0,
    });
    transport.respond(ACTIVE, false);
    clock.advance(1000); // +4000 probe unanswered, counted at +5000
    clock.advance(1000);
    const stats = statsOf(monitor, 'ap-1');
    expect(stats.lossPercent).toBe(25);
    expect(stats.consecutiveMisses).toBe(1);
    expect(stats.status).toBe('up');
    clock.advance(1000);
    expect(statsOf(monitor, 'ap-1').lossPercent).toBe(50);
  });

  it('counts a reply slower than the interval as a miss', () => {
    const { clock, monitor, kinds } = setup({
      tunnels: [TUNNELS[0]],
      before: (transport) => transport.respond(ACTIVE, true, 1500),
    });
    clock.advance(3100);
    expect(kinds()).toEqual(['tunnel-down ap-1 +3000']);
    expect(statsOf(monitor, 'ap-1')).toMatchObject({ repliesReceived: 0, lossPercent: 100 });
  });

  it('keeps history across a reconfigure and probes at the new interval', () => {
    const { clock, transport, monitor, kinds } = setup();
    clock.advance(2500);
    transport.respond('10.0.0.3:7000', true, 5);
    const before = transport.sent.length;
    monitor.reconfigure(
      [{ ...TUNNELS[0] }, { accessPoint: 'ap-3', address: '10.0.0.3:7000', role: 'standby' }],
      { ...KEEPALIVE, intervalMs: 500 },
    );
    clock.advance(1000);
    // A reconfigure probes at once, then every 500 ms.
    expect(transport.sent.slice(before).map((s) => s.at - T0)).toEqual([2500, 2500, 3000, 3000, 3500, 3500]);
    expect(statsOf(monitor, 'ap-1')).toMatchObject({ status: 'up', probesSent: 6, repliesReceived: 5 });
    expect(statsOf(monitor, 'ap-3')).toMatchObject({ status: 'up', probesSent: 3, repliesReceived: 2 });
    expect(monitor.stats().map((s) => s.accessPoint)).toEqual(['ap-1', 'ap-3']);
    expect(kinds()).not.toContain('tunnel-down ap-1');
  });

  it('stops probing when stopped', () => {
    const { clock, transport, monitor } = setup();
    monitor.stop();
    const sent = transport.sent.length;
    clock.advance(10_000);
    expect(transport.sent.length).toBe(sent);
    expect(clock.pendingTimers).toBe(0);
  });
});
