import { decodeHello } from '@opensag/proto';
import type { HandlerContext } from './context.js';
import type { DeviceSession } from './sessions.js';

/** Standard base64 of 32 bytes: a WireGuard public key. */
const WIREGUARD_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * `sag/v1/d/{sn}/hello`, the device's birth message: record what it runs and what it applied,
 * tell it again that it is active, and re-send the config only when its applied revision or hash
 * differs from the desired one.
 */
export function handleHello(ctx: HandlerContext, session: DeviceSession, payload: Buffer): void {
  const hello = decodeHello(payload);
  const cp = ctx.controlPlane;
  const { gatewayId, serialNumber } = session;
  const previous = cp.deviceState(gatewayId);
  const now = new Date(ctx.nowMs()).toISOString();
  cp.recordDevice(gatewayId, serialNumber, {
    appliedRevision: hello.appliedRevision > 0 ? hello.appliedRevision : null,
    appliedHash: hello.appliedHash || null,
    lastSeenAt: now,
    report: {
      ...(previous?.report as Record<string, unknown> | undefined),
      agentVersion: hello.agentVersion,
      model: hello.model,
      agentState: hello.state,
      dataplane: hello.dataplane,
      role: hello.role,
      ports: hello.ports,
      helloAt: now,
    },
  });
  // Debug: every (re)connection says hello; the device state keeps what it reported.
  ctx.log.debug(
    {
      serialNumber,
      gatewayId,
      agentVersion: hello.agentVersion,
      appliedRevision: hello.appliedRevision,
      state: hello.state,
    },
    'device hello',
  );
  if (hello.tunnelPublicKey !== '') {
    if (WIREGUARD_KEY.test(hello.tunnelPublicKey))
      cp.recordTunnelKey(gatewayId, serialNumber, hello.tunnelPublicKey);
    else
      ctx.log.warn(
        { serialNumber, gatewayId, tunnelPublicKey: hello.tunnelPublicKey.slice(0, 60) },
        'device hello carries a tunnel key that is not the base64 of 32 bytes; ignored',
      );
  }
  const gateway = cp.topology.gateways.get(gatewayId);
  if (gateway?.lifecycle === 'active') ctx.push.sendActivation(gateway);
  // A fresh hello is the device's own word on what it has: decide again from scratch.
  ctx.push.cancel(gatewayId);
  cp.reissueAbove(gatewayId, hello.appliedRevision);
  ctx.push.reconcile(gatewayId);
}
