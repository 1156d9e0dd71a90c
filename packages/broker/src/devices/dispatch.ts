import { type DeviceTopicKind, isProtocolError, parseTopic } from '@opensag/proto';
import type { AedesPublishPacket, Client } from 'aedes';
import { handleAck } from './ack.js';
import type { HandlerContext } from './context.js';
import { handleEvent } from './event.js';
import { handleHello } from './hello.js';
import { handlePresence, touch } from './presence.js';
import { handleReport } from './report.js';
import type { DeviceSession } from './sessions.js';

type Handler = (ctx: HandlerContext, session: DeviceSession, payload: Buffer) => void;

/** One handler per device message kind, as aedes has one per packet type. */
const HANDLERS: Record<DeviceTopicKind, Handler> = {
  hello: handleHello,
  report: handleReport,
  ack: handleAck,
  event: handleEvent,
  presence: handlePresence,
};

/**
 * aedes' `published` hook: routes each device message to its handler. Whatever a payload holds,
 * nothing is thrown back into aedes and no other device is affected; a message that does not
 * decode is logged with the device's serial number and dropped.
 */
export function createDispatcher(ctx: HandlerContext) {
  return function published(
    packet: AedesPublishPacket,
    client: Client | null,
    callback: (error?: Error | null) => void,
  ) {
    try {
      dispatch(ctx, packet, client);
    } finally {
      callback(null);
    }
  };
}

function dispatch(ctx: HandlerContext, packet: AedesPublishPacket, client: Client | null): void {
  // Messages of a session that is not current (a Will after disconnect, a replaced connection) are moot.
  const session = ctx.sessions.current(client);
  if (!session) return;
  const topic = parseTopic(packet.topic);
  if (topic?.side !== 'device' || topic.serialNumber !== session.serialNumber) return;
  touch(ctx, session);
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? '');
  try {
    HANDLERS[topic.kind](ctx, session, payload);
  } catch (err) {
    const fields = { serialNumber: session.serialNumber, gatewayId: session.gatewayId, topic: topic.kind };
    if (isProtocolError(err)) {
      ctx.log.warn(
        { ...fields, code: err.code, field: err.field, reason: err.message },
        `device ${topic.kind} dropped: ${err.message}`,
      );
    } else {
      ctx.log.error({ ...fields, err }, `device ${topic.kind} handling failed`);
    }
  }
}
