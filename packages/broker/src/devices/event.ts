import { decodeEvent, type Event, type EventKind } from '@opensag/proto';
import type { TunnelStatus } from '../controlPlane.js';
import type { HandlerContext } from './context.js';
import type { DeviceSession } from './sessions.js';

/** Device event kinds recorded in the event log, and their action names there. */
const ACTIONS: Partial<Record<EventKind, string>> = {
  TUNNEL_UP: 'tunnel.up',
  TUNNEL_DOWN: 'tunnel.down',
  FAILOVER: 'tunnel.failover',
  FAILBACK: 'tunnel.failback',
  PORT_CHANGE: 'port.change',
};

/** A device that flaps harder than this fills no one's disk: the rest of the minute is dropped. */
const MAX_EVENTS_PER_MINUTE = 120;

/**
 * `sag/v1/d/{sn}/event`: tunnel and port changes become device events; a probe result answers a
 * pending probe. Config results are taken from acks, which carry revision and hash.
 */
export function handleEvent(ctx: HandlerContext, session: DeviceSession, payload: Buffer): void {
  const event = decodeEvent(payload);
  const { gatewayId, serialNumber } = session;
  if (event.kind === 'PROBE_RESULT' && event.probeResult) {
    if (!ctx.probes.resolve(serialNumber, event.probeResult)) {
      ctx.log.info(
        { serialNumber, probeId: event.probeResult.probeId },
        'probe result for no pending probe ignored',
      );
    }
    return;
  }
  const action = ACTIONS[event.kind];
  if (!action) return;
  if (!withinBudget(ctx, session)) return;
  const details = {
    accessPoint: event.accessPoint || undefined,
    detail: event.detail || undefined,
    deviceTime: event.atMs > 0 ? new Date(event.atMs).toISOString() : undefined,
  };
  const tunnels = tunnelsAfter(ctx, session, event);
  const lastSeenAt = new Date(ctx.nowMs()).toISOString();
  const previous = ctx.controlPlane.deviceState(gatewayId);
  ctx.controlPlane.recordDevice(
    gatewayId,
    serialNumber,
    tunnels
      ? { lastSeenAt, report: { ...(previous?.report as Record<string, unknown> | undefined), tunnels } }
      : { lastSeenAt },
    [{ action, details }],
  );
  // Debug: the event log records each (GET /v1/events).
  ctx.log.debug({ serialNumber, gatewayId, action, accessPoint: event.accessPoint }, 'device event');
}

/** The reported tunnels with this up/down change applied at once, before the next report. */
function tunnelsAfter(ctx: HandlerContext, session: DeviceSession, event: Event): TunnelStatus[] | null {
  if (event.kind !== 'TUNNEL_UP' && event.kind !== 'TUNNEL_DOWN') return null;
  const report = ctx.controlPlane.deviceState(session.gatewayId)?.report as
    | { tunnels?: TunnelStatus[] }
    | undefined;
  if (!report?.tunnels?.some((t) => t.accessPoint === event.accessPoint)) return null;
  const state = event.kind === 'TUNNEL_UP' ? 'up' : 'down';
  return report.tunnels.map((t) =>
    t.accessPoint === event.accessPoint
      ? { ...t, state, ...(state === 'down' ? { rttMs: null, jitterMs: null } : {}) }
      : t,
  );
}

function withinBudget(ctx: HandlerContext, session: DeviceSession): boolean {
  const window = session.eventWindow;
  const now = ctx.nowMs();
  if (now - window.startedAt >= 60_000) {
    if (window.dropped > 0) {
      ctx.log.warn(
        { serialNumber: session.serialNumber, dropped: window.dropped },
        'device events dropped (flood)',
      );
    }
    window.startedAt = now;
    window.count = 0;
    window.dropped = 0;
  }
  window.count += 1;
  if (window.count <= MAX_EVENTS_PER_MINUTE) return true;
  window.dropped += 1;
  return false;
}
