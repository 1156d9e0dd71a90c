import { decodeReport, type TunnelStatus } from '@opensag/proto';
import type { TunnelStatus as ApiTunnelStatus } from '../controlPlane.js';
import type { HandlerContext } from './context.js';
import type { DeviceSession } from './sessions.js';

/** The tunnel figures the status API shows; a down tunnel has no current RTT or jitter. */
function tunnelView(t: TunnelStatus): ApiTunnelStatus {
  const up = t.state === 'up';
  return {
    accessPoint: t.accessPoint,
    role: t.role,
    state: t.state,
    rttMs: up ? t.rttMs : null,
    lossPct: t.lossPct,
    jitterMs: up ? t.jitterMs : null,
  };
}

/** `sag/v1/d/{sn}/report` (QoS 0, periodic): tunnel figures, ports and counters into the device state. */
export function handleReport(ctx: HandlerContext, session: DeviceSession, payload: Buffer): void {
  const report = decodeReport(payload);
  const cp = ctx.controlPlane;
  const previous = cp.deviceState(session.gatewayId);
  const now = new Date(ctx.nowMs()).toISOString();
  cp.recordDevice(session.gatewayId, session.serialNumber, {
    lastSeenAt: now,
    report: {
      ...(previous?.report as Record<string, unknown> | undefined),
      tunnels: report.tunnels.map(tunnelView),
      ports: report.ports,
      counters: report.counters,
      uptimeMs: report.uptimeMs,
      reportedRevision: report.appliedRevision,
      reportedAt: now,
    },
  });
}
