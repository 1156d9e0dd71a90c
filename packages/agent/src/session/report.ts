import type { EventInput, EventKind, ReportInput } from '@opensag/proto';
import type { PortState } from '../dataplane/dataplane.js';
import type { TunnelEvent, TunnelStats } from '../keepalive/tunnelMonitor.js';
import { portStatuses } from './hello.js';

export interface ReportFacts {
  appliedRevision: number;
  tunnels: readonly TunnelStats[];
  ports: readonly PortState[];
  uptimeMs: number;
}

/** The periodic figures (QoS 0): tunnel health from the keepalive monitor, ports, uptime. */
export function buildReport(facts: ReportFacts): ReportInput {
  return {
    appliedRevision: facts.appliedRevision,
    tunnels: facts.tunnels.map((t) => ({
      accessPoint: t.accessPoint,
      address: t.address,
      role: t.role,
      // The wire knows up and down only; a tunnel not yet heard from carries no traffic either way.
      state: t.status === 'up' ? 'up' : 'down',
      carryingTraffic: t.carrying,
      rttMs: t.rttMs ?? 0,
      lossPct: clamp(t.lossPercent, 0, 100),
      jitterMs: Math.max(0, t.jitterMs),
      probesSent: t.probesSent,
      probesLost: Math.max(0, t.probesSent - t.repliesReceived),
    })),
    ports: portStatuses(facts.ports),
    // The emulated data plane forwards no packets, so it has none to count.
    counters: { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, aclDroppedPackets: 0 },
    uptimeMs: Math.max(0, Math.trunc(facts.uptimeMs)),
  };
}

const EVENT_KIND: Record<TunnelEvent['kind'], EventKind> = {
  'tunnel-up': 'TUNNEL_UP',
  'tunnel-down': 'TUNNEL_DOWN',
  failover: 'FAILOVER',
  failback: 'FAILBACK',
};

/** A keepalive state change as the Event the broker records (QoS 1). */
export function tunnelEventMessage(event: TunnelEvent, multiplier?: number): EventInput {
  return {
    kind: EVENT_KIND[event.kind],
    atMs: Math.max(0, Math.trunc(event.at)),
    accessPoint: event.accessPoint,
    detail: describeTunnelEvent(event, multiplier),
  };
}

function describeTunnelEvent(event: TunnelEvent, multiplier?: number): string {
  switch (event.kind) {
    case 'tunnel-up':
      return `tunnel to ${event.accessPoint} is up: its probe responder answers`;
    case 'tunnel-down':
      return multiplier
        ? `tunnel to ${event.accessPoint} is down: ${multiplier} probes in a row went unanswered`
        : `tunnel to ${event.accessPoint} is down: probes went unanswered`;
    case 'failover':
      return `traffic moved ${event.from ? `from ${event.from} ` : ''}to ${event.accessPoint}`;
    case 'failback':
      return `traffic moved back ${event.from ? `from ${event.from} ` : ''}to ${event.accessPoint} after its hold-down`;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
