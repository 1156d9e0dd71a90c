import { LIMITS } from '@opensag/proto';
import type { Client } from 'aedes';
import type { DeviceLinkContext } from './context.js';
import type { DeviceSession } from './sessions.js';

/** How much a device that does not read may cost the broker before it is dropped. */
export interface OutputLimits {
  /**
   * Bytes waiting in the broker for one device once the kernel's socket buffers are full. Push
   * writes at most one config while earlier output is still waiting, so past two of the largest
   * payloads something keeps writing to a device that does not read.
   */
  maxBufferedBytes: number;
  /**
   * A device whose output has not drained for this long is not reading. Below aedes'
   * drainTimeout (20 s, see mqttServer.ts), so when there is something to send the drop carries
   * this reason and event instead of a bare "drain timeout".
   */
  stallMs: number;
}

export const OUTPUT_LIMITS: Readonly<OutputLimits> = {
  maxBufferedBytes: 2 * LIMITS.maxPayloadBytes,
  stallMs: 10_000,
};

/** `clear`: nothing waits; `backlogged`: earlier output still waits; `dropped`: the session was closed. */
export type OutputState = 'clear' | 'backlogged' | 'dropped';

/** When each client's output was first seen waiting; cleared by the socket's next drain. */
const backloggedSince = new WeakMap<Client, number>();

/** Bytes written to the device's connection that the kernel has not taken yet. */
export function bufferedBytes(client: Client): number {
  const conn = client.conn as { writableLength?: number } | undefined;
  return conn?.writableLength ?? 0;
}

/**
 * Whether the device takes what the broker sends it: called before each send, so a device that
 * stopped reading gets no second copy behind the first, and is dropped once its backlog is over
 * the cap or older than `stallMs`.
 */
export function checkOutput(
  ctx: DeviceLinkContext,
  session: DeviceSession,
  limits: OutputLimits = OUTPUT_LIMITS,
): OutputState {
  const { client } = session;
  if (client.closed) return 'dropped';
  const buffered = bufferedBytes(client);
  if (buffered === 0) {
    backloggedSince.delete(client);
    return 'clear';
  }
  const now = ctx.nowMs();
  let since = backloggedSince.get(client);
  if (since === undefined) {
    since = now;
    backloggedSince.set(client, now);
    client.conn.once('drain', () => backloggedSince.delete(client));
  }
  const stalledMs = now - since;
  if (buffered <= limits.maxBufferedBytes && stalledMs < limits.stallMs) return 'backlogged';
  dropSlowConsumer(ctx, session, buffered, stalledMs, limits);
  return 'dropped';
}

/** Closes the session of a device that does not read, with a warning and a `device.slow-consumer` event. */
function dropSlowConsumer(
  ctx: DeviceLinkContext,
  session: DeviceSession,
  bufferedBytes: number,
  stalledMs: number,
  limits: OutputLimits,
): void {
  const reason =
    bufferedBytes > limits.maxBufferedBytes
      ? `the device is not reading: ${bufferedBytes} bytes wait to be sent to it, over the cap of ${limits.maxBufferedBytes}`
      : `the device is not reading: what was sent to it has not drained for ${Math.round(stalledMs / 1000)} s (${bufferedBytes} bytes waiting)`;
  const { serialNumber, gatewayId, address } = session;
  ctx.sessions.setCloseReason(session.client, reason);
  ctx.log.warn(
    { serialNumber, gatewayId, address, bufferedBytes, stalledMs },
    `dropping a device that does not read: ${reason}`,
  );
  ctx.controlPlane.recordDeviceEvents(gatewayId, serialNumber, [
    { action: 'device.slow-consumer', details: { reason, address, bufferedBytes, stalledMs } },
  ]);
  session.client.close();
}
