import type { Server as HttpServer } from 'node:http';
import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { HostPort } from '../config.js';
import type { CommittedMutation, ControlPlane } from '../controlPlane.js';
import { type AccessPoint, startAccessPoint } from './accessPoint.js';
import { type AuthenticateOptions, createConnectGuards } from './authenticate.js';
import { createAuthorizers } from './authorize.js';
import type { DeviceLinkContext, HandlerContext } from './context.js';
import { DeviceKeys } from './deviceKeys.js';
import { createDispatcher } from './dispatch.js';
import { PacketTooLarge, startMqttServer } from './mqttServer.js';
import { markOffline, markOnline, touch } from './presence.js';
import { type ProbeAnswer, type ProbeOptions, type ProbeRequest, Probes } from './probes.js';
import { ConfigPush, type PushOptions } from './push.js';
import { addressOf, type DeviceSession, DeviceSessions } from './sessions.js';

export interface DeviceLinkOptions {
  controlPlane: ControlPlane;
  config: { mqtt: HostPort; accessPoint: HostPort };
  log: Logger;
  /** Serves MQTT over WebSocket at `/mqtt` when given. */
  httpServer?: HttpServer;
  /** An access point already started (its address went into the configs); else one is started. */
  accessPoint?: AccessPoint;
  nowMs?: () => number;
  authenticate?: AuthenticateOptions;
  push?: PushOptions;
  probes?: ProbeOptions;
}

export interface DeviceLink {
  mqttAddress: HostPort;
  accessPointAddress: HostPort;
  /** Asks a gateway's device to probe a destination (POST /v1/gateways/{id}/probes). */
  probe(gatewayId: string, request: ProbeRequest): Promise<ProbeAnswer>;
  /** Devices connected now. */
  connectedDevices(): number;
  /** Stops accepting, closes every device session (recorded offline), the access point, and flushes. */
  close(): Promise<void>;
}

/** The broker's side of the device protocol: MQTT (TCP + WebSocket), sessions, push, probes, access point. */
export async function startDeviceLink(options: DeviceLinkOptions): Promise<DeviceLink> {
  const { controlPlane } = options;
  const log = options.log.child({ component: 'devices' });
  const sessions = new DeviceSessions();
  let publishVia: ((topic: string, payload: Buffer) => Promise<void>) | null = null;
  const base: DeviceLinkContext = {
    controlPlane,
    sessions,
    log,
    nowMs: options.nowMs ?? Date.now,
    publish: (topic, payload) =>
      publishVia ? publishVia(topic, payload) : Promise.reject(new Error('MQTT is not running')),
  };
  const ctx: HandlerContext = {
    ...base,
    push: new ConfigPush(base, options.push),
    probes: new Probes(base, options.probes),
  };
  const keys = new DeviceKeys();
  const accessPoint = options.accessPoint ?? (await startAccessPoint(options.config.accessPoint, log));
  let mqtt: Awaited<ReturnType<typeof startMqttServer>>;
  try {
    mqtt = await startMqttServer({
      tcp: options.config.mqtt,
      httpServer: options.httpServer,
      handlers: {
        ...createConnectGuards(base, { ...options.authenticate, keys }),
        ...createAuthorizers(base),
        published: createDispatcher(ctx),
      },
    });
  } catch (err) {
    await accessPoint.close();
    throw err;
  }
  const { aedes } = mqtt;
  publishVia = (topic, payload) =>
    new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );

  // Online as soon as the CONNACK is out: the client is registered then (takeover done).
  aedes.on('connackSent', (packet, client) => {
    const started = packet.returnCode === 0 ? sessions.activate(client) : undefined;
    if (!started) return;
    if (started.replaced) sessionReplaced(ctx, started.replaced, started.session);
    markOnline(ctx, started.session);
  });
  aedes.on('clientDisconnect', (client) => onDisconnect(ctx, client));
  aedes.on('keepaliveTimeout', (client) =>
    sessions.setCloseReason(client, 'keepalive expired: nothing heard within 1.5 × keepalive'),
  );
  aedes.on('clientError', (client, err) => {
    // aedes' own backstop for a device that stops reading (push drops it sooner, outputBacklog.ts).
    if (err.message === 'drain timeout') {
      const reason = 'the device is not reading: its output did not drain within 20 s';
      sessions.setCloseReason(client, reason);
      log.warn({ serialNumber: client.id, reason }, 'dropping a device that does not read');
      return;
    }
    sessions.setCloseReason(client, `connection error: ${err.message}`);
    if (err instanceof PacketTooLarge)
      log.warn(
        { serialNumber: client.id, address: addressOf(client), err: err.message },
        'device connection cut',
      );
    else log.debug({ serialNumber: client.id, err: err.message }, 'device connection error');
  });
  aedes.on('connectionError', (client, err) => {
    // An oversize packet is hostile or broken, worth seeing at the default level; the rest is noise.
    if (err instanceof PacketTooLarge)
      log.warn({ address: addressOf(client), err: err.message }, 'connection cut before CONNACK');
    else log.debug({ err: err.message }, 'connection failed before CONNACK');
  });
  aedes.on('ping', (_packet, client) => {
    const session = sessions.current(client);
    if (session) touch(ctx, session);
  });
  // aedes reports persistence failures as 'error'; unhandled, that event would end the process.
  (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) =>
    log.error({ err }, 'MQTT broker error'),
  );

  let closing = false;
  controlPlane.onCommitted((mutation) => {
    if (closing) return;
    disconnectUnbound(ctx, keys, mutation);
    ctx.push.onCommitted(mutation);
  });
  controlPlane.onConfigChanged((record) => {
    if (!closing) ctx.push.reconcile(record.gatewayId);
  });
  log.info(
    { mqtt: `${mqtt.tcpAddress.host}:${mqtt.tcpAddress.port}`, websocket: Boolean(options.httpServer) },
    'device link listening',
  );

  let closed: Promise<void> | null = null;
  return {
    mqttAddress: mqtt.tcpAddress,
    accessPointAddress: accessPoint.address,
    probe: (gatewayId, request) => ctx.probes.probe(gatewayId, request),
    connectedDevices: () => sessions.size,
    close() {
      closed ??= (async () => {
        closing = true;
        mqtt.stopAccepting();
        ctx.push.close();
        ctx.probes.close();
        for (const session of sessions.all())
          sessions.setCloseReason(session.client, 'the broker is stopping');
        await mqtt.close();
        await accessPoint.close();
        controlPlane.flushDeviceWrites();
      })();
      return closed;
    },
  };
}

function onDisconnect(ctx: HandlerContext, client: Client): void {
  const ended = ctx.sessions.closed(client);
  if (!ended) return;
  const { session, replacedBy } = ended;
  ctx.push.cancel(session.gatewayId);
  if (replacedBy) {
    // Two connections with one identity: the newer wins; issue it as an event so clones show.
    ctx.log.warn(
      { serialNumber: session.serialNumber, previousAddress: session.address, address: replacedBy.address },
      'device session replaced by a newer connection',
    );
    ctx.controlPlane.recordDeviceEvents(session.gatewayId, session.serialNumber, [
      {
        action: 'device.session-replaced',
        details: { previousAddress: session.address, address: replacedBy.address },
      },
    ]);
    return;
  }
  ctx.probes.abandon(session.serialNumber);
  markOffline(ctx, session, ctx.sessions.closeReason(client) ?? 'the device disconnected');
}

/** Two connections with one identity: the newer wins; an event makes clones visible. */
function sessionReplaced(ctx: HandlerContext, previous: DeviceSession, next: DeviceSession): void {
  ctx.sessions.setCloseReason(previous.client, 'replaced by a newer connection of the same device');
  ctx.log.warn(
    { serialNumber: previous.serialNumber, previousAddress: previous.address, address: next.address },
    'device session replaced by a newer connection',
  );
  ctx.controlPlane.recordDeviceEvents(previous.gatewayId, previous.serialNumber, [
    {
      action: 'device.session-replaced',
      details: { previousAddress: previous.address, address: next.address },
    },
  ]);
}

/**
 * Unbinding or deleting a gateway ends its device's session at once: it is offline from this
 * commit on, and whatever its connections still send (a Will, a QoS 1 publish in flight, a
 * CONNECT waiting for its CONNACK) no longer counts for the gateway, which may already have a
 * newly bound device.
 */
function disconnectUnbound(ctx: HandlerContext, keys: DeviceKeys, mutation: CommittedMutation): void {
  for (const change of mutation.changes) {
    if (change.kind !== 'gateway' || !change.before?.serialNumber) continue;
    if (change.after?.serialNumber === change.before.serialNumber) continue;
    const serialNumber = change.before.serialNumber;
    keys.forget(serialNumber);
    const { current, clients } = ctx.sessions.end(serialNumber);
    if (clients.length === 0) continue;
    const reason = change.after ? 'the device was unbound from its gateway' : 'its gateway was deleted';
    ctx.log.info({ serialNumber, gatewayId: change.id, reason }, 'disconnecting device');
    if (current) {
      ctx.push.cancel(current.gatewayId);
      ctx.probes.abandon(serialNumber);
      markOffline(ctx, current, reason);
    }
    for (const client of clients) client.close();
  }
}
