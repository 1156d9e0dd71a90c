import { type AckResult, decodeAck, decodeHello, deviceTopic } from '@opensag/proto';
import type { MqttClient } from 'mqtt';

/** A config ack the broker has taken: its PUBACK came back. */
export interface DeliveredAck {
  revision: number;
  result: AckResult;
  /** `performance.now()` when the PUBACK arrived. */
  atMs: number;
  /**
   * `hello` when a birth message told the broker this revision is applied: an ack whose connection
   * dropped before its PUBACK is not sent again, the next hello carries the revision instead.
   */
  via: 'ack' | 'hello';
}

/**
 * Calls `onDelivered` when the broker acknowledges (PUBACK) one of this device's config acks.
 * The broker handles a device message before it sends the PUBACK, so this is when the broker
 * recorded the ack, as near as a device can see it, without asking the broker.
 */
export function watchConfigAcks(
  client: MqttClient,
  serialNumber: string,
  onDelivered: (ack: DeliveredAck) => void,
): void {
  const ackTopic = deviceTopic(serialNumber, 'ack');
  const helloTopic = deviceTopic(serialNumber, 'hello');
  const sent = new Map<number, Omit<DeliveredAck, 'atMs'>>();
  client.on('packetsend', (packet) => {
    if (packet.cmd !== 'publish' || packet.messageId === undefined) return;
    try {
      if (packet.topic === ackTopic) {
        const ack = decodeAck(packet.payload as Buffer);
        sent.set(packet.messageId, { revision: ack.revision, result: ack.result, via: 'ack' });
      } else if (packet.topic === helloTopic) {
        const hello = decodeHello(packet.payload as Buffer);
        if (hello.appliedRevision > 0) {
          sent.set(packet.messageId, { revision: hello.appliedRevision, result: 'APPLIED', via: 'hello' });
        }
      }
    } catch {
      // Not a message this device could have sent; nothing to time.
    }
  });
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined) return;
    const ack = sent.get(packet.messageId);
    if (!ack) return;
    sent.delete(packet.messageId);
    onDelivered({ ...ack, atMs: performance.now() });
  });
  // A connection that ends takes its unanswered publishes along; the session re-sends what it must.
  client.on('close', () => sent.clear());
}
