import { parseTopic } from '@opensag/proto';
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import type { DeviceLinkContext } from './context.js';

/** Topics are client input: logged only this long. */
const SHOWN_TOPIC = 120;

/**
 * A device subscribes to two topics. One SUBSCRIBE may list 100,000 filters, each refused with a
 * log line; past this many refusals on one connection it is probing, and it is disconnected.
 */
export const MAX_REFUSED_SUBSCRIPTIONS = 16;

/**
 * The topic table of SPEC §5: a device publishes only under `sag/v1/d/{its SN}/`, subscribes only
 * to `sag/v1/c/{its SN}/config|cmd`, and receives nothing else. Wildcards, other serials and
 * `$SYS` never parse as its own topics, so they are refused by construction. Publishes by the
 * broker itself (client null) are internal and pass.
 */
export function createAuthorizers(ctx: DeviceLinkContext) {
  const refusedSubscriptions = new WeakMap<Client, number>();

  function refuse(client: Client, what: string, topic: unknown, reason: string) {
    ctx.log.warn(
      { serialNumber: client.id, topic: String(topic).slice(0, SHOWN_TOPIC), reason },
      `device ${what} refused: ${reason}`,
    );
  }

  /** Bound to a gateway, or running an access point of the broker's config. */
  function stillBound(client: Client): boolean {
    if (typeof client.id !== 'string') return false;
    const cp = ctx.controlPlane;
    return cp.gatewayBySerial(client.id) !== undefined || cp.accessPointBySerial(client.id) !== undefined;
  }

  function authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ) {
    if (!client) return callback(null);
    const topic = parseTopic(packet.topic);
    let reason: string | null = null;
    if (topic?.side !== 'device' || topic.serialNumber !== client.id)
      reason = 'not one of its own device topics';
    else if (packet.qos === 2) reason = 'QoS 2 is not used by the protocol';
    else if (packet.retain) reason = 'devices may not retain messages';
    else if (!stillBound(client)) reason = 'the device is no longer bound to a gateway';
    if (reason === null) return callback(null);
    refuse(client, 'publish', packet.topic, reason);
    // MQTT 3.1.1 cannot refuse a PUBLISH: aedes closes the connection (MQTT-3.3.5-2).
    callback(new Error(`publish to ${String(packet.topic).slice(0, SHOWN_TOPIC)} refused: ${reason}`));
  }

  function authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ) {
    const topic = parseTopic(subscription.topic);
    if (topic?.side === 'cloud' && topic.serialNumber === client.id) {
      subscription.qos = Math.min(subscription.qos, 1) as Subscription['qos'];
      return callback(null, subscription);
    }
    const refused = (refusedSubscriptions.get(client) ?? 0) + 1;
    refusedSubscriptions.set(client, refused);
    if (refused <= MAX_REFUSED_SUBSCRIPTIONS) {
      refuse(client, 'subscription', subscription.topic, 'not one of its own cloud topics');
      // Negated: the SUBACK says 0x80 for this filter and the connection stays up.
      return callback(null, null);
    }
    const reason = `more than ${MAX_REFUSED_SUBSCRIPTIONS} subscriptions refused on one connection`;
    if (refused === MAX_REFUSED_SUBSCRIPTIONS + 1) refuse(client, 'subscription', subscription.topic, reason);
    // An error instead of a negated grant: aedes closes the connection.
    callback(new Error(`subscription refused: ${reason}`));
  }

  /** Last line: even a subscription that slipped through never carries another device's traffic. */
  function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const topic = parseTopic(packet.topic);
    if (topic?.side === 'cloud' && topic.serialNumber === client.id && stillBound(client)) return packet;
    return null;
  }

  return { authorizePublish, authorizeSubscribe, authorizeForward };
}
