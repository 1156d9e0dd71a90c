import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApi } from './api/server.js';
import { resolveApiToken } from './apiToken.js';
import type { AccessPoint } from './compile/types.js';
import { type BrokerConfig, plaintextWarning } from './config.js';
import { ControlPlane } from './controlPlane.js';
import { startAccessPoint } from './devices/accessPoint.js';
import { type DeviceLink, startDeviceLink } from './devices/deviceLink.js';
import type { MqttListener } from './devices/mqttServer.js';
import { createMetrics } from './metrics.js';
import { openSqliteStore } from './store/sqlite.js';

export const DATABASE_FILE = 'opensag.db';

export interface RunningBroker {
  controlPlane: ControlPlane;
  deviceLink: DeviceLink;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080 (https:// with TLS) */
  httpUrl: string;
  /** MQTT over TCP, e.g. mqtt://127.0.0.1:1883 (WebSocket: ws://<http>/mqtt); mqtts:// and wss:// with TLS */
  mqttUrl: string;
  /** host:port of the embedded access point's UDP probe responder. */
  accessPointAddress: string;
  token: string;
  tokenGenerated: boolean;
  close(): Promise<void>;
}

/**
 * The access points in every gateway's config, active first. Access points run by edge agents
 * carry real tunnels, so when there are any the embedded responder (probes only) steps aside.
 * All of them stay listed, so each edge agent gets its config even when it serves no gateway.
 */
export function gatewayAccessPoints(embedded: AccessPoint, configured: AccessPoint[]): AccessPoint[] {
  const edges = configured.some((point) => point.serialNumber !== undefined);
  return edges ? configured.map((point) => ({ ...point })) : [embedded, ...configured];
}

/** Opens the data directory, loads the state and starts serving. */
export async function startBroker(
  config: BrokerConfig,
  log: Logger = pino({ level: config.logLevel }, pino.destination(2)),
): Promise<RunningBroker> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { token, generated } = resolveApiToken(config.dataDir, config.apiToken);
  const tls = config.tls ?? null;
  const warning = plaintextWarning(config);
  if (warning) log.warn(warning);
  // Group commit: the API holds each answer until its write is synced (see api/durability.ts).
  const store = openSqliteStore(join(config.dataDir, DATABASE_FILE), { groupCommit: true });
  const metrics = createMetrics();
  // Bound first, so an ephemeral port (0) is known before it goes into every config.
  const accessPoint = await startAccessPoint(config.accessPoint, log);
  const embedded = {
    id: 'ap-embedded',
    address: `${hostText(config.accessPoint.host)}:${accessPoint.address.port}`,
  };
  const controlPlane = new ControlPlane({
    store,
    log,
    metrics,
    settings: { enabledAreas: config.enabledAreas, quotas: config.quotas },
    compile: {
      accessPoints: gatewayAccessPoints(embedded, config.accessPoints),
      keepalive: config.keepalive,
    },
  });
  let deviceLink: DeviceLink;
  const api = buildApi({
    controlPlane,
    token,
    logger: log,
    metricsRegistry: metrics.registry,
    rateLimit: { max: config.rateLimitPerMinute, windowMs: 60_000 },
    durability: store,
    // The link needs the HTTP server (for MQTT over WebSocket), so the API reaches it lazily.
    deviceLink: { probe: (gatewayId, request) => deviceLink.probe(gatewayId, request) },
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  });
  // The device link hands this to the MQTT listener as it is: with `tls` it serves mqtts://.
  const mqtt: MqttListener = { ...config.mqtt, tls };
  try {
    deviceLink = await startDeviceLink({
      controlPlane,
      config: { ...config, mqtt },
      log,
      httpServer: api.server,
      accessPoint,
    });
  } catch (err) {
    await accessPoint.close();
    store.close();
    throw err;
  }
  try {
    await api.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await deviceLink.close();
    store.close();
    throw err;
  }
  const address = api.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return {
    controlPlane,
    deviceLink,
    httpUrl: `${tls ? 'https' : 'http'}://${hostText(config.http.host)}:${port}`,
    mqttUrl: `${tls ? 'mqtts' : 'mqtt'}://${hostText(deviceLink.mqttAddress.host)}:${deviceLink.mqttAddress.port}`,
    accessPointAddress: embedded.address,
    token,
    tokenGenerated: generated,
    async close() {
      // Devices first (no new ones, sessions closed and recorded offline, writes flushed), then
      // HTTP, then the store they both write to.
      await deviceLink.close();
      await api.close();
      controlPlane.flushDeviceWrites();
      store.close();
    },
  };
}

function hostText(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
