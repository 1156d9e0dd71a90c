import { decodePresence } from '@opensag/proto';
import type { DeviceLinkContext } from './context.js';
import type { DeviceSession } from './sessions.js';

/** The device is connected and authenticated: online, with an event when it was not before. */
export function markOnline(ctx: DeviceLinkContext, session: DeviceSession): void {
  const previous = ctx.controlPlane.deviceState(session.gatewayId);
  const lastSeenAt = new Date(session.lastPacketAt).toISOString();
  const wasOnline = previous?.presence === 'online';
  ctx.controlPlane.recordDevice(
    session.gatewayId,
    session.serialNumber,
    { presence: 'online', lastSeenAt },
    wasOnline ? [] : [{ action: 'device.online', details: { address: session.address, lastSeenAt } }],
  );
  // Debug: a reconnect storm brings thousands at once; the device.online event records each.
  ctx.log.debug(
    { serialNumber: session.serialNumber, gatewayId: session.gatewayId, address: session.address },
    'device online',
  );
}

/** The session ended (disconnect, keepalive expiry, Will, unbinding): offline, with the reason. */
export function markOffline(ctx: DeviceLinkContext, session: DeviceSession, reason: string): void {
  const lastSeenAt = new Date(session.lastPacketAt).toISOString();
  ctx.controlPlane.recordDevice(
    session.gatewayId,
    session.serialNumber,
    { presence: 'offline', lastSeenAt },
    [{ action: 'device.offline', details: { reason, address: session.address, lastSeenAt } }],
  );
  // Debug: a broker restart takes every device offline; the device.offline event records each.
  ctx.log.debug(
    { serialNumber: session.serialNumber, gatewayId: session.gatewayId, reason },
    'device offline',
  );
}

/** Records that the device was heard from now (kept in memory; written with its next state change). */
export function touch(ctx: DeviceLinkContext, session: DeviceSession): void {
  session.lastPacketAt = ctx.nowMs();
}

/**
 * `sag/v1/d/{sn}/presence`: normally the Last Will. aedes publishes a Will only after the
 * connection closed, when the session is already gone and marked offline; so an OFFLINE here
 * counts only from the current session (a device announcing it is going away).
 */
export function handlePresence(ctx: DeviceLinkContext, session: DeviceSession, payload: Buffer): void {
  const presence = decodePresence(payload);
  if (presence.state !== 'OFFLINE') return;
  ctx.sessions.setCloseReason(session.client, 'the device announced it is going offline');
  session.client.close();
}
