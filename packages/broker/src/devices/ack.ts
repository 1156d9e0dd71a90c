import { type AckResult, decodeAck } from '@opensag/proto';
import type { HandlerContext } from './context.js';
import type { DeviceSession } from './sessions.js';

const RESULT_WORDS: Record<AckResult, string> = {
  APPLIED: 'applied',
  REJECTED: 'rejected',
  ROLLED_BACK: 'rolled-back',
};

/**
 * `sag/v1/d/{sn}/ack`: the result of applying a config. Only an ack of the desired revision and
 * content counts; older (stale) or foreign ones are ignored. A duplicate ack records no second event.
 */
export function handleAck(ctx: HandlerContext, session: DeviceSession, payload: Buffer): void {
  const ack = decodeAck(payload);
  const cp = ctx.controlPlane;
  const { gatewayId, serialNumber } = session;
  const desired = cp.configRecord(gatewayId);
  const result = RESULT_WORDS[ack.result];
  if (!desired || ack.revision !== desired.revision || ack.hash !== desired.hash) {
    // Debug: overlapping fleet-wide changes make many; the device's sync state shows what counts.
    ctx.log.debug(
      {
        serialNumber,
        gatewayId,
        ackRevision: ack.revision,
        desiredRevision: desired?.revision ?? null,
        result,
      },
      'stale config ack ignored',
    );
    return;
  }
  ctx.push.acked(gatewayId, ack.revision);
  const previous = cp.deviceState(gatewayId);
  const lastSeenAt = new Date(ctx.nowMs()).toISOString();
  const details = { revision: ack.revision, hash: ack.hash, result };
  if (ack.result === 'APPLIED') {
    const repeated = previous?.appliedRevision === ack.revision && previous.appliedHash === ack.hash;
    cp.recordDevice(
      gatewayId,
      serialNumber,
      {
        appliedRevision: ack.revision,
        appliedHash: ack.hash,
        failedRevision: null,
        syncError: null,
        lastSeenAt,
      },
      repeated ? [] : [{ action: 'config.applied', details }],
    );
    // Debug: a fleet-wide change brings thousands of these at once; the event records each.
    ctx.log.debug({ serialNumber, gatewayId, revision: ack.revision }, 'config applied by device');
    return;
  }
  const error = ack.error || `the device ${result} revision ${ack.revision} without giving a reason`;
  const repeated = previous?.failedRevision === ack.revision;
  cp.recordDevice(
    gatewayId,
    serialNumber,
    { failedRevision: ack.revision, syncError: error, lastSeenAt },
    repeated ? [] : [{ action: 'config.failed', details: { ...details, error } }],
  );
  ctx.log.warn({ serialNumber, gatewayId, revision: ack.revision, result, error }, 'config failed on device');
}
