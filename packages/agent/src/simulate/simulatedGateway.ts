import { type IClientOptions, type MqttClient, connect as mqttConnect } from 'mqtt';
import { type ApplyOutcome, ConfigApplier } from '../apply/applier.js';
import type { DeviceConfig } from '../config.js';
import { EmulatedDataPlane } from '../dataplane/emulated/emulatedDataPlane.js';
import { realClock } from '../keepalive/clock.js';
import type { ProbeTransport } from '../keepalive/transport.js';
import { type TunnelEvent, TunnelMonitor } from '../keepalive/tunnelMonitor.js';
import { type BrokerConnection, DeviceSession } from '../session/deviceSession.js';
import type { AgentLog } from '../session/log.js';
import { buildReport, tunnelEventMessage } from '../session/report.js';
import { type DeliveredAck, watchConfigAcks } from './ackWatch.js';
import type { SimulatedIdentity } from './fleetIdentities.js';

/** The applier of the real agent, remembering the last outcome so the fleet can count failures. */
class RecordingApplier extends ConfigApplier {
  lastOutcome: ApplyOutcome | null = null;

  override async apply(config: unknown): Promise<ApplyOutcome> {
    const outcome = await super.apply(config);
    this.lastOutcome = outcome;
    return outcome;
  }
}

export interface SimulatedGatewayOptions {
  identity: SimulatedIdentity;
  brokerUrl: string;
  /** PEM CA certificates trusted for an mqtts:// or wss:// broker. */
  ca?: string;
  reportIntervalMs: number;
  keepaliveSeconds: number;
  agentVersion: string;
  /** Opens the MQTT client (a chosen source address); MQTT.js `connect` when absent. */
  connect?: (brokerUrl: string, options: IClientOptions) => MqttClient;
  probeTransport: ProbeTransport;
  log: AgentLog;
  onConnectionChange: (connection: BrokerConnection) => void;
  onConfigApplied: (config: DeviceConfig) => void;
  /** The broker took one of this device's config acks (its PUBACK arrived); for benchmarks. */
  onAckDelivered?: (ack: DeliveredAck) => void;
}

/**
 * One emulated gateway: the agent's own session, applier and keepalive monitor on an emulated
 * data plane, with last-known-good kept in memory (nothing is written to disk per device).
 */
export class SimulatedGateway {
  readonly serialNumber: string;
  readonly dataPlane = new EmulatedDataPlane();
  readonly session: DeviceSession;
  private readonly applier: RecordingApplier;
  private readonly transport: ProbeTransport;
  private monitor: TunnelMonitor | null = null;
  private multiplier: number | undefined;

  constructor(options: SimulatedGatewayOptions) {
    this.serialNumber = options.identity.serialNumber;
    this.transport = options.probeTransport;
    this.applier = new RecordingApplier({
      stateDir: `(memory of ${this.serialNumber})`,
      dataPlane: this.dataPlane,
      persist: async () => undefined,
    });
    const startedAt = realClock.now();
    const connect = ackTimingConnect(options);
    this.session = new DeviceSession({
      brokerUrl: options.brokerUrl,
      ...(options.ca ? { ca: options.ca } : {}),
      identity: options.identity,
      applier: this.applier,
      dataPlane: this.dataPlane,
      dataplane: 'emulated',
      role: 'branch',
      model: 'opensag-simulated',
      agentVersion: options.agentVersion,
      keepaliveSeconds: options.keepaliveSeconds,
      reportIntervalMs: options.reportIntervalMs,
      log: options.log,
      ...(connect ? { connect } : {}),
      onConnectionChange: options.onConnectionChange,
      onConfigApplied: (config) => {
        this.watchTunnels(config);
        options.onConfigApplied(config);
      },
      report: () => {
        this.feedLinkStates();
        return buildReport({
          appliedRevision: this.applier.applied?.revision ?? 0,
          tunnels: this.monitor?.stats() ?? [],
          ports: this.dataPlane.snapshot().ports,
          uptimeMs: realClock.now() - startedAt,
        });
      },
    });
  }

  /** The revision applied, 0 before the first config. */
  get appliedRevision(): number {
    return this.applier.applied?.revision ?? 0;
  }

  /** The last push was refused or rolled back: its ack's error. */
  get applyError(): string | null {
    const outcome = this.applier.lastOutcome;
    return outcome && outcome.result !== 'applied' ? (outcome.error ?? outcome.result) : null;
  }

  start(): void {
    this.session.start();
  }

  async close(): Promise<void> {
    await this.session.close();
    this.monitor?.stop();
    await this.transport.close();
    await this.dataPlane.close();
  }

  private watchTunnels(config: DeviceConfig): void {
    this.multiplier = config.keepalive.multiplier;
    if (this.monitor) this.monitor.reconfigure(config.tunnels, config.keepalive);
    else {
      this.monitor = new TunnelMonitor({
        clock: realClock,
        transport: this.transport,
        tunnels: config.tunnels,
        keepalive: config.keepalive,
      });
      this.monitor.onEvent((event) => this.onTunnelEvent(event));
      this.monitor.start();
    }
    this.feedLinkStates();
  }

  private onTunnelEvent(event: TunnelEvent): void {
    this.feedLinkStates();
    this.session.publishEvent(tunnelEventMessage(event, this.multiplier));
  }

  private feedLinkStates(): void {
    if (this.monitor) this.dataPlane.setTunnelStates(this.monitor.linkStates());
  }
}

/** The client opener, watching config acks when someone listens for them (no cost otherwise). */
function ackTimingConnect(options: SimulatedGatewayOptions): SimulatedGatewayOptions['connect'] {
  const { onAckDelivered } = options;
  if (!onAckDelivered) return options.connect;
  const open = options.connect ?? mqttConnect;
  const { serialNumber } = options.identity;
  return (brokerUrl, clientOptions) => {
    const client = open(brokerUrl, clientOptions);
    watchConfigAcks(client, serialNumber, onAckDelivered);
    return client;
  };
}
