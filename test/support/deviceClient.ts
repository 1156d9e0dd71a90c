import { connect as netConnect } from 'node:net';
import { createProof, generateIdentity } from '@opensag/proto';
import { connect, type IClientOptions, type ISubscriptionGrant, MqttClient } from 'mqtt';

/**
 * A device the test plays itself with MQTT.js, to send what a real agent never would: foreign
 * topics, wildcards, forged or reused proofs.
 */
export interface TestDevice {
  serialNumber: string;
  /** Standard base64 of the raw Ed25519 key, as the binding API takes it. */
  publicKey: string;
  privateKeyPem: string;
}

export function testDevice(serialNumber: string): TestDevice {
  return { serialNumber, ...generateIdentity() };
}

/** A proof signed by the device's own key, stamped `atMs` (now by default). */
export function proofOf(device: TestDevice, atMs = Date.now()): string {
  return createProof(device.serialNumber, device.privateKeyPem, atMs);
}

/** What came of a CONNECT: the connected client, or the error MQTT.js reported. */
export type ConnectOutcome =
  | { connected: true; client: MqttClient }
  | { connected: false; error: Error & { code?: number } };

export interface ConnectOptions {
  /** The loopback source address to connect from (the failure rate limit counts per address). */
  localAddress?: string;
  /** More MQTT.js options (a Will, a keepalive, ...). */
  extra?: Partial<IClientOptions>;
  /** Told about the client at once, e.g. to close it when the test ends whatever happens. */
  track?: (client: MqttClient) => void;
}

/** One CONNECT as a device would send it (clean session, no reconnect); never throws. */
export function connectAs(
  mqttUrl: string,
  serialNumber: string,
  password: string,
  options: ConnectOptions = {},
): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const clientOptions: IClientOptions = {
      protocolVersion: 4,
      clientId: serialNumber,
      username: serialNumber,
      password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options.extra,
    };
    const { localAddress } = options;
    // MQTT.js passes no source address to the socket, so that case builds the socket itself.
    const client = localAddress
      ? new MqttClient(() => {
          const { hostname, port } = new URL(mqttUrl);
          return netConnect({ host: hostname, port: Number(port), localAddress });
        }, clientOptions)
      : connect(mqttUrl, clientOptions);
    options.track?.(client);
    const settle = (outcome: ConnectOutcome) => {
      client.removeAllListeners('connect');
      resolve(outcome);
    };
    client.once('connect', () => settle({ connected: true, client }));
    client.once('error', (error) => {
      client.end(true);
      settle({ connected: false, error });
    });
    client.once('close', () =>
      settle({ connected: false, error: new Error('connection closed before CONNACK') }),
    );
  });
}

/** Subscribes to one filter and returns the granted QoS from the SUBACK (128 means refused). */
export async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  try {
    const granted: ISubscriptionGrant[] = await client.subscribeAsync(filter, { qos: 1 });
    return granted[0].qos;
  } catch (err) {
    // MQTT.js turns a 0x80 return code into an error that still carries the SUBACK.
    const suback = (err as { packet?: { granted?: unknown[] } }).packet;
    const code = suback?.granted?.[0];
    if (typeof code === 'number') return code;
    throw err;
  }
}

/** Resolves once the broker has closed the client's connection. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  if (!client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
