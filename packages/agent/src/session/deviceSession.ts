import type { KeyObject } from 'node:crypto';
import {
  type AgentRole,
  type AgentState,
  cloudTopic,
  createProof,
  type Dataplane,
  type DeviceTopicKind,
  deviceTopic,
  type EventInput,
  encodeAck,
  encodeEvent,
  encodeHello,
  encodePresence,
  encodeReport,
  type ReportInput,
} from '@opensag/proto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { ConfigApplier } from '../apply/applier.js';
import type { DeviceConfig } from '../config.js';
import type { DataPlane } from '../dataplane/dataplane.js';
import { errorMessage } from '../errors.js';
import { type Clock, realClock, type TimerHandle } from '../keepalive/clock.js';
import { type AttemptFailure, Backoff, type BackoffOptions } from './backoff.js';
import { describeBrokerError } from './brokerTrust.js';
import { CommandDispatcher, runProbe } from './command.js';
import { handleConfigPush } from './config.js';
import { buildHello, readAgentVersion } from './hello.js';
import { type AgentLog, silentLog } from './log.js';
import { Outbox } from './outbox.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface BrokerConnection {
  url: string;
  state: ConnectionState;
  /** Wall-clock millis of the last state change. */
  since: number;
  /** Why the last connection attempt or connection ended, when it did. */
  lastError: string | null;
}

export interface DeviceSessionOptions {
  brokerUrl: string;
  /**
   * PEM CA certificates trusted for an mqtts:// or wss:// broker, instead of the system's. The
   * broker's certificate and name are always verified.
   */
  ca?: string;
  identity: { serialNumber: string; privateKey: KeyObject };
  applier: ConfigApplier;
  dataPlane: DataPlane;
  dataplane: Dataplane;
  role: AgentRole;
  model?: string;
  agentVersion?: string;
  /** MQTT keepalive; the broker declares the device offline after 1.5 × this of silence. */
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  /** A connection that lasts this long resets the backoff to its base. */
  stableAfterMs?: number;
  backoff?: BackoffOptions;
  /** Report period; the report is built by `reportFacts` and published at QoS 0. */
  reportIntervalMs?: number;
  report?: () => ReportInput;
  log?: AgentLog;
  /** Timers (reconnect, report, stability). */
  clock?: Clock;
  /** Wall clock for the CONNECT proof, Unix millis. */
  now?: () => number;
  /** Called after a pushed config changed what is applied. */
  onConfigApplied?: (config: DeviceConfig) => void;
  onConnectionChange?: (connection: BrokerConnection) => void;
  /** Called after each report tick, published or not (the broker may be away). */
  onReport?: () => void;
  /** The broker asked for a reboot. */
  onReboot?: () => void;
  /** Opens the MQTT client; the simulator's seam to pick a source address. MQTT.js `connect` by default. */
  connect?: (brokerUrl: string, options: IClientOptions) => MqttClient;
}

export const SESSION_DEFAULTS = {
  keepaliveSeconds: 30,
  // A broker that accepted the TCP connection is alive: giving up on a queued CONNECT only puts
  // it at the back of the queue again, with a new proof to verify (MQTT.js's own default is 30 s).
  connectTimeoutMs: 30_000,
  stableAfterMs: 60_000,
  reportIntervalMs: 10_000,
} as const;

/**
 * The device's MQTT link to the broker (SPEC §5): authenticates with a fresh proof on every
 * attempt, subscribes to its two cloud topics, says hello, applies pushed configs and acks them,
 * runs commands, and reports. Reconnection is driven by `Backoff`, never by MQTT.js.
 */
export class DeviceSession {
  readonly serialNumber: string;
  private readonly options: DeviceSessionOptions;
  private readonly log: AgentLog;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private readonly commands: CommandDispatcher;
  private readonly outbox: Outbox;
  private readonly agentVersion: string;
  private client: MqttClient | null = null;
  private linkUp = false;
  private activated = false;
  private closed = false;
  /** `refused` when the current attempt met nothing listening (ECONNREFUSED). */
  private attemptFailure: AttemptFailure = 'failed';
  private reconnectTimer: TimerHandle | null = null;
  private stableTimer: TimerHandle | null = null;
  private reportTimer: TimerHandle | null = null;
  private connectionState: BrokerConnection;

  constructor(options: DeviceSessionOptions) {
    this.options = options;
    this.serialNumber = options.identity.serialNumber;
    this.log = options.log ?? silentLog;
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? Date.now;
    this.backoff = new Backoff(options.backoff);
    this.agentVersion = options.agentVersion ?? readAgentVersion();
    assertBrokerUrl(options.brokerUrl);
    this.outbox = new Outbox(this.log);
    this.connectionState = {
      url: options.brokerUrl,
      state: 'disconnected',
      since: this.now(),
      lastError: null,
    };
    this.commands = new CommandDispatcher(
      {
        activation: (activation) => {
          this.activated = true;
          this.log.info('gateway activated', { gatewayId: activation.gatewayId });
        },
        probeRequest: async (request) => {
          const result = await runProbe(options.dataPlane, request, this.serialNumber);
          this.log.info('probe answered', { ...result });
          this.publishEvent({ kind: 'PROBE_RESULT', atMs: Math.trunc(this.now()), probeResult: result });
        },
        reboot: () => {
          this.log.warn('reboot requested by the broker');
          if (options.onReboot) options.onReboot();
          else this.log.error('no restart handler is installed; the reboot request is ignored');
        },
        resync: () => this.sendHello(),
      },
      this.log,
    );
  }

  /** `waiting-for-activation` until an activation notice or a config arrives. */
  get agentState(): AgentState {
    return this.activated || this.options.applier.applied ? 'running' : 'waiting-for-activation';
  }

  get connection(): BrokerConnection {
    return { ...this.connectionState };
  }

  start(): void {
    if (this.closed || this.client || this.reconnectTimer) return;
    this.scheduleReport();
    this.attempt();
  }

  /** Publishes an event at QoS 1; kept for the next connection while the broker is away. */
  publishEvent(event: EventInput): void {
    this.send('event', () => encodeEvent(event), 1);
  }

  /** Publishes the birth message again (also what a `resync` command does). */
  sendHello(): void {
    const applied = this.options.applier.applied;
    this.send(
      'hello',
      () =>
        encodeHello(
          buildHello({
            applied: applied ? { revision: applied.revision, hash: applied.hash } : null,
            ports: this.options.dataPlane.snapshot().ports,
            state: this.agentState,
            dataplane: this.options.dataplane,
            role: this.options.role,
            model: this.options.model ?? `opensag-${this.options.dataplane}`,
            agentVersion: this.agentVersion,
            tunnelPublicKey: this.options.dataPlane.tunnelPublicKey,
          }),
        ),
      1,
    );
  }

  /** Says goodbye (Presence OFFLINE, since a clean disconnect suppresses the Last Will) and stops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of ['reconnectTimer', 'stableTimer', 'reportTimer'] as const) this.cancel(timer);
    const client = this.client;
    this.client = null;
    if (client && this.linkUp) {
      await withTimeout(
        client.publishAsync(
          deviceTopic(this.serialNumber, 'presence'),
          encodePresence({ state: 'OFFLINE' }),
          {
            qos: 1,
          },
        ),
        1000,
      ).catch(() => undefined);
      await withTimeout(client.endAsync(), 2000).catch(() => client.end(true));
    } else client?.end(true);
    this.linkUp = false;
    this.setConnection('closed', null);
  }

  private attempt(): void {
    this.reconnectTimer = null;
    if (this.closed) return;
    this.setConnection('connecting', this.connectionState.lastError);
    this.attemptFailure = 'failed';
    const { serialNumber } = this;
    let client: MqttClient;
    try {
      client = (this.options.connect ?? connect)(this.options.brokerUrl, this.clientOptions());
    } catch (err) {
      // Nothing was opened; count it as a failed attempt rather than let a timer throw.
      this.connectionState.lastError = errorMessage(err);
      this.retryLater();
      return;
    }
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    // The reason is logged once, with the retry it causes (see onClose).
    client.on('error', (err) => {
      this.connectionState.lastError = describeBrokerError(
        err,
        this.options.brokerUrl,
        this.options.ca !== undefined,
      );
      this.attemptFailure = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : 'failed';
      this.log.debug('broker connection error', { serialNumber, error: errorMessage(err) });
    });
    client.on('close', () => this.onClose(client));
  }

  private clientOptions(): IClientOptions {
    const { serialNumber } = this;
    return {
      protocolVersion: 4,
      clientId: serialNumber,
      username: serialNumber,
      // A fresh proof each attempt: the broker accepts every nonce once and a timestamp for 300 s.
      password: createProof(serialNumber, this.options.identity.privateKey, this.now()),
      clean: true,
      keepalive: this.options.keepaliveSeconds ?? SESSION_DEFAULTS.keepaliveSeconds,
      connectTimeout: this.options.connectTimeoutMs ?? SESSION_DEFAULTS.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      // mqtts:// and wss://: the certificate chain and the host name are checked, always.
      rejectUnauthorized: true,
      ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
      will: {
        topic: deviceTopic(serialNumber, 'presence'),
        payload: encodePresence({ state: 'OFFLINE' }),
        qos: 1,
        retain: false,
      },
    };
  }

  private async onConnect(client: MqttClient): Promise<void> {
    if (client !== this.client) return;
    this.linkUp = true;
    this.log.info('connected to the broker', { url: this.options.brokerUrl });
    this.stableTimer = this.clock.setTimeout(() => {
      this.stableTimer = null;
      this.backoff.reset();
    }, this.options.stableAfterMs ?? SESSION_DEFAULTS.stableAfterMs);
    try {
      const granted = await client.subscribeAsync(
        [cloudTopic(this.serialNumber, 'config'), cloudTopic(this.serialNumber, 'cmd')],
        { qos: 1 },
      );
      const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length > 0) throw new Error(`the broker refused the subscription to ${refused.join(', ')}`);
    } catch (err) {
      if (client !== this.client) return;
      this.log.error('cannot subscribe to the cloud topics; reconnecting', { error: errorMessage(err) });
      this.connectionState.lastError = errorMessage(err);
      this.onClose(client);
      return;
    }
    if (client !== this.client) return;
    this.setConnection('connected', null);
    // Hello only after subscribing, so a config the broker sends in reply cannot be missed.
    this.sendHello();
    for (const message of this.outbox.drain()) this.publishNow(client, message.topic, message.payload, 1);
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.client = null;
    this.linkUp = false;
    this.cancel('stableTimer');
    client.end(true);
    if (this.closed) return;
    this.retryLater();
  }

  private retryLater(): void {
    const delay = this.backoff.next(this.attemptFailure);
    this.setConnection('disconnected', this.connectionState.lastError);
    this.log.warn('not connected to the broker; retrying', {
      url: this.options.brokerUrl,
      inMs: delay,
      attempt: this.backoff.attempts,
      reason: this.connectionState.lastError ?? 'connection closed',
    });
    this.reconnectTimer = this.clock.setTimeout(() => this.attempt(), delay);
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (client !== this.client) return;
    if (topic === cloudTopic(this.serialNumber, 'config')) void this.onConfig(payload);
    else if (topic === cloudTopic(this.serialNumber, 'cmd')) void this.commands.handle(payload);
    else this.log.warn('message on an unexpected topic ignored', { topic });
  }

  private async onConfig(payload: Buffer): Promise<void> {
    const { ack, applied } = await handleConfigPush(payload, {
      serialNumber: this.serialNumber,
      applier: this.options.applier,
      log: this.log,
    });
    if (applied) {
      this.activated = true;
      try {
        this.options.onConfigApplied?.(applied);
      } catch (err) {
        this.log.error('after-apply hook failed', { error: errorMessage(err) });
      }
    }
    if (ack) this.send('ack', () => encodeAck(ack), 1);
  }

  private scheduleReport(): void {
    const interval = this.options.reportIntervalMs ?? SESSION_DEFAULTS.reportIntervalMs;
    this.reportTimer = this.clock.setTimeout(() => {
      this.reportTimer = null;
      if (this.closed) return;
      const report = this.options.report;
      if (report) this.send('report', () => encodeReport(report()), 0);
      try {
        this.options.onReport?.();
      } catch (err) {
        this.log.error('report hook failed', { error: errorMessage(err) });
      }
      this.scheduleReport();
    }, interval);
  }

  /** Encodes and publishes; QoS 1 messages wait in the outbox while the link is down. */
  private send(kind: DeviceTopicKind, encode: () => Buffer, qos: 0 | 1): void {
    let payload: Buffer;
    try {
      payload = encode();
    } catch (err) {
      this.log.error(`cannot encode the ${kind} message`, { error: errorMessage(err) });
      return;
    }
    const topic = deviceTopic(this.serialNumber, kind);
    const client = this.client;
    if (client && this.linkUp && this.connectionState.state === 'connected') {
      this.publishNow(client, topic, payload, qos);
    } else if (qos === 1 && kind !== 'hello') {
      // A hello is always sent fresh on connect; an old one would only confuse the broker.
      this.outbox.push({ topic, payload });
    }
  }

  private publishNow(client: MqttClient, topic: string, payload: Buffer, qos: 0 | 1): void {
    client.publish(topic, payload, { qos }, (err) => {
      if (err) this.log.warn('publish failed', { topic, error: errorMessage(err) });
    });
  }

  private setConnection(state: ConnectionState, lastError: string | null): void {
    if (this.connectionState.state === state && this.connectionState.lastError === lastError) return;
    this.connectionState = { url: this.options.brokerUrl, state, since: this.now(), lastError };
    this.options.onConnectionChange?.(this.connection);
  }

  private cancel(timer: 'reconnectTimer' | 'stableTimer' | 'reportTimer'): void {
    const handle = this[timer];
    if (handle) this.clock.clearTimeout(handle);
    this[timer] = null;
  }
}

const BROKER_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:']);

/** Throws a RangeError naming the URL unless it is one MQTT.js can connect to. */
export function assertBrokerUrl(url: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || !BROKER_PROTOCOLS.has(parsed.protocol) || parsed.hostname === '') {
    throw new RangeError(
      `broker URL ${JSON.stringify(url)} is not mqtt://HOST:PORT (or mqtts://, ws://, wss://)`,
    );
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
