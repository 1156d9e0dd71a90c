import { connect as netConnect } from 'node:net';
import { type IClientOptions, MqttClient } from 'mqtt';

export type ClientOpener = (brokerUrl: string, options: IClientOptions) => MqttClient;

/**
 * Opens each MQTT client from `localAddress`. One source address gives about 28,000 ephemeral
 * ports towards one broker address (net.ipv4.ip_local_port_range), so past that the fleet spreads
 * its connections over several loopback addresses (127.0.0.0/8 is all loopback on Linux).
 */
export function openFrom(brokerUrl: string, localAddress: string): ClientOpener {
  const url = new URL(brokerUrl);
  if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:') {
    throw new RangeError(
      `source addresses need an mqtt://HOST:PORT broker URL; ${JSON.stringify(brokerUrl)} is not one`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? 1883 : Number(url.port);
  return (_url, options) => new MqttClient(() => netConnect({ host, port, localAddress }), options);
}

/** Parses `--source-addresses 127.0.0.2,127.0.0.3`; throws naming the bad entry. */
export function parseSourceAddresses(text: string): string[] {
  const addresses = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (addresses.length === 0)
    throw new RangeError('--source-addresses is empty; expected 127.0.0.2,127.0.0.3,…');
  for (const address of addresses) {
    if (
      !/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(address) ||
      address.split('.').some((n) => Number(n) > 255)
    ) {
      throw new RangeError(`--source-addresses: "${address}" is not an IPv4 address such as 127.0.0.2`);
    }
  }
  return addresses;
}
