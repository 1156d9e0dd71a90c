import { createServer, type Server as HttpServer } from 'node:http';
import { connect as netConnect } from 'node:net';
import { Writable } from 'node:stream';
import {
  createProof,
  type DeviceIdentity,
  deviceTopic,
  encodePresence,
  generateIdentity,
} from '@opensag/proto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import pino from 'pino';
import type { AccessPoint } from '../compile/types.js';
import { DEFAULT_KEEPALIVE } from '../config.js';
import { ControlPlane } from '../controlPlane.js';
import { DEFAULT_QUOTAS } from '../domain/catalogue.js';
import { activateGateway, bindDevice, createGateway } from '../domain/operations/index.js';
import type { Gateway } from '../domain/types.js';
import { createMemoryStore } from '../store/memory.js';
import { type DeviceLink, type DeviceLinkOptions, startDeviceLink } from './deviceLink.js';

/**
 * A device link on ephemeral loopback ports over a real control plane (in-memory store), with
 * its log captured, plus helpers to make gateways and connect devices as the agent would.
 * Used by the tests beside the device link.
 */

export interface TestDevice {
  serialNumber: string;
  identity: DeviceIdentity;
  gatewayId: string;
}

export type LogLine = Record<string, unknown> & { msg: string; level: number };

export class TestLink {
  readonly logs: LogLine[] = [];
  readonly controlPlane: ControlPlane;
  readonly log: pino.Logger;
  readonly httpServer: HttpServer = createServer((_req, res) => res.writeHead(404).end());
  link!: DeviceLink;
  private readonly clients: MqttClient[] = [];
  private serial = 0;

  constructor(options: { now?: () => Date; accessPoints?: AccessPoint[] } = {}) {
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        for (const line of String(chunk).split('\n')) if (line) this.logs.push(JSON.parse(line));
        done();
      },
    });
    this.log = pino({ level: 'debug' }, sink);
    this.controlPlane = new ControlPlane({
      store: createMemoryStore(),
      log: this.log,
      now: options.now,
      settings: { enabledAreas: ['china-mainland'], quotas: DEFAULT_QUOTAS },
      compile: {
        accessPoints: options.accessPoints ?? [{ id: 'ap-test', address: '127.0.0.1:7000' }],
        keepalive: DEFAULT_KEEPALIVE,
      },
      deviceWriteDelayMs: 20,
    });
  }

  async start(options: Partial<DeviceLinkOptions> = {}): Promise<this> {
    await new Promise<void>((resolve) => this.httpServer.listen(0, '127.0.0.1', resolve));
    this.link = await startDeviceLink({
      controlPlane: this.controlPlane,
      config: { mqtt: { host: '127.0.0.1', port: 0 }, accessPoint: { host: '127.0.0.1', port: 0 } },
      log: this.log,
      httpServer: this.httpServer,
      ...options,
    });
    return this;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.link.mqttAddress.port}`;
  }

  get wsUrl(): string {
    const address = this.httpServer.address();
    return `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/mqtt`;
  }

  /** A gateway with a freshly made device identity bound to it; `active` also activates it. */
  device(options: { active?: boolean; name?: string } = {}): TestDevice {
    this.serial += 1;
    const serialNumber = `SAGTEST-${String(this.serial).padStart(5, '0')}`;
    const identity = generateIdentity();
    const cp = this.controlPlane;
    const gateway = cp.mutate<Gateway>('test', (t, ctx) =>
      createGateway(t, ctx, {
        name: options.name ?? `Branch ${this.serial}`,
        area: 'china-mainland',
        spec: 'sag-100wm',
        bandwidthMbps: 2,
        subscriptionMonths: 1,
      }),
    ) as Gateway;
    cp.mutate('test', (t, ctx) =>
      bindDevice(t, ctx, gateway.id, { serialNumber, publicKey: identity.publicKey }),
    );
    if (options.active) this.activate(gateway.id);
    return { serialNumber, identity, gatewayId: gateway.id };
  }

  activate(gatewayId: string): void {
    this.controlPlane.mutate('test', (t, ctx) => activateGateway(t, ctx, gatewayId));
  }

  /** MQTT options as the agent sends them: serial as client id and username, a fresh proof. */
  options(device: TestDevice, extra: Partial<IClientOptions> = {}): IClientOptions {
    return {
      clientId: device.serialNumber,
      username: device.serialNumber,
      password: createProof(device.serialNumber, device.identity.privateKeyPem, Date.now()),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      will: {
        topic: deviceTopic(device.serialNumber, 'presence'),
        payload: encodePresence({ state: 'OFFLINE' }),
        qos: 1,
        retain: false,
      },
      ...extra,
    };
  }

  /** Connects over TCP (optionally from another loopback address); rejects when refused. */
  async connect(
    device: TestDevice,
    extra: Partial<IClientOptions> = {},
    localAddress?: string,
  ): Promise<MqttClient> {
    const options = this.options(device, extra);
    const client = localAddress
      ? new mqtt.MqttClient(
          () => netConnect({ host: '127.0.0.1', port: this.link.mqttAddress.port, localAddress }),
          options,
        )
      : mqtt.connect(this.mqttUrl, options);
    this.clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    return client;
  }

  /** Connects and subscribes to the device's own config and cmd topics, as the agent does. */
  async connectAgent(device: TestDevice, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
    const client = await this.connect(device, extra);
    await client.subscribeAsync(
      [`sag/v1/c/${device.serialNumber}/config`, `sag/v1/c/${device.serialNumber}/cmd`],
      { qos: 1 },
    );
    return client;
  }

  logsWith(msg: string | RegExp): LogLine[] {
    return this.logs.filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));
  }

  events(gatewayId: string) {
    return this.controlPlane.events({ limit: 500, resourceId: gatewayId, category: 'device' }).items;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await this.link?.close();
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
  }
}

export async function startTestLink(
  options: Partial<DeviceLinkOptions> = {},
  controlPlane: { now?: () => Date; accessPoints?: AccessPoint[] } = {},
): Promise<TestLink> {
  return new TestLink(controlPlane).start(options);
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function eventually<T>(
  predicate: () => T | undefined | null | false,
  timeoutMs = 3000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Messages a client receives, collected by topic. */
export function inbox(client: MqttClient): { topic: string; payload: Buffer }[] {
  const messages: { topic: string; payload: Buffer }[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload }));
  return messages;
}
