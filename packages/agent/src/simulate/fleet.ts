import type { DeviceConfig } from '../config.js';
import type { ProbeTransport } from '../keepalive/transport.js';
import { UdpProbeTransport } from '../keepalive/udpTransport.js';
import type { BrokerConnection, ConnectionState } from '../session/deviceSession.js';
import { readAgentVersion } from '../session/hello.js';
import { type AgentLog, silentLog } from '../session/log.js';
import type { DeliveredAck } from './ackWatch.js';
import { AlwaysUpProbeTransport } from './alwaysUpTransport.js';
import type { SimulatedIdentity } from './fleetIdentities.js';
import { SimulatedGateway } from './simulatedGateway.js';
import { type ClientOpener, openFrom } from './sourceAddress.js';

export interface FleetOptions {
  identities: readonly SimulatedIdentity[];
  brokerUrl: string;
  /** PEM CA certificates trusted for an mqtts:// or wss:// broker, as `sag-agent run --ca`. */
  ca?: string;
  /** CONNECTs in flight at most while the fleet comes up. */
  concurrency: number;
  reportIntervalMs: number;
  keepaliveSeconds: number;
  /** The summary is given when every device has applied a config, or after this long. */
  settleTimeoutMs: number;
  /** Loopback addresses to connect from, round-robin; the system's choice when empty. */
  sourceAddresses?: readonly string[];
  /** Real UDP keepalive probes to the access points instead of the in-memory always-up network. */
  udpProbes?: boolean;
  /** Each device's own log (warnings about its session); silent by default. */
  deviceLog?: (serialNumber: string) => AgentLog;
  /** Receives progress lines ("connected n/N, in-sync n/N, failed f"). */
  progress?: (line: string) => void;
  progressIntervalMs?: number;
  /** Each device's milestones as they happen, timed with `performance.now()`; for benchmarks. */
  onMilestone?: (milestone: DeviceMilestone) => void;
}

/** One step of one device: `index` is its place in `identities`. */
export type DeviceMilestone = { index: number; serialNumber: string; atMs: number } & (
  | { kind: 'connected' }
  /** A connection attempt or a connection ended; `reason` is why, when known. */
  | { kind: 'disconnected'; reason: string | null }
  | { kind: 'applied'; revision: number }
  /** The broker took the device's ack of `revision` (PUBACK received). */
  | { kind: 'acked'; revision: number; result: DeliveredAck['result'] }
);

/** What `sag-agent simulate` prints once the fleet has settled. */
export interface FleetSummary {
  count: number;
  connected: number;
  /** Devices that have applied a pushed config. */
  inSync: number;
  /** Devices not connected whose last attempt failed, or whose last config push was refused. */
  failed: number;
  /** From the first CONNECT to the last device's first connection (CONNACK and subscriptions). */
  connectMs: number;
  /** From the first CONNECT to the summary. */
  elapsedMs: number;
}

export interface Fleet {
  readonly gateways: readonly SimulatedGateway[];
  /** `performance.now()` when the first CONNECT went out. */
  readonly startedAtMs: number;
  counts(): Omit<FleetSummary, 'connectMs' | 'elapsedMs'>;
  /** One failed device and why, for the operator; null when none failed. */
  firstFailure(): { serialNumber: string; reason: string } | null;
  /** Resolves once every device applied a config, or at the settle timeout. */
  readonly settled: Promise<FleetSummary>;
  close(): Promise<void>;
}

interface Tracked {
  gateway: SimulatedGateway;
  state: ConnectionState;
  lastError: string | null;
  /** Holds one of the `concurrency` slots until its first attempt ends. */
  ramping: boolean;
  everConnected: boolean;
  applied: boolean;
}

/** Starts N emulated gateways in this process, at most `concurrency` connecting at once. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const count = options.identities.length;
  const agentVersion = readAgentVersion();
  const openers = (options.sourceAddresses ?? []).map((address) => openFrom(options.brokerUrl, address));
  const milestone = options.onMilestone;
  const tracked: Tracked[] = [];
  for (const [i, identity] of options.identities.entries()) {
    tracked.push(await track(i, identity, openers.length > 0 ? openers[i % openers.length] : undefined));
  }
  const startedAt = performance.now();
  let firstConnections = 0;
  let lastFirstConnectAt = startedAt;
  let connected = 0;
  let inSync = 0;
  let next = 0;
  let inFlight = 0;
  let resolveSettled!: (summary: FleetSummary) => void;
  const settled = new Promise<FleetSummary>((resolve) => {
    resolveSettled = resolve;
  });
  let summary: FleetSummary | null = null;

  async function track(index: number, identity: SimulatedIdentity, opener?: ClientOpener): Promise<Tracked> {
    const transport: ProbeTransport = options.udpProbes
      ? await UdpProbeTransport.open({ serialNumber: identity.serialNumber })
      : new AlwaysUpProbeTransport();
    const entry = {
      state: 'disconnected',
      lastError: null,
      ramping: false,
      everConnected: false,
      applied: false,
    } as Omit<Tracked, 'gateway'> as Tracked;
    entry.gateway = new SimulatedGateway({
      identity,
      brokerUrl: options.brokerUrl,
      ...(options.ca ? { ca: options.ca } : {}),
      reportIntervalMs: options.reportIntervalMs,
      keepaliveSeconds: options.keepaliveSeconds,
      agentVersion,
      ...(opener ? { connect: opener } : {}),
      probeTransport: transport,
      log: options.deviceLog?.(identity.serialNumber) ?? silentLog,
      onConnectionChange: (connection) => {
        onConnectionChange(entry, connection);
        if (milestone) connectionMilestone(index, identity.serialNumber, connection);
      },
      onConfigApplied: (config) => {
        onApplied(entry, config);
        milestone?.({
          index,
          serialNumber: identity.serialNumber,
          atMs: performance.now(),
          kind: 'applied',
          revision: config.revision,
        });
      },
      ...(milestone
        ? {
            onAckDelivered: (ack: DeliveredAck) =>
              milestone({ index, serialNumber: identity.serialNumber, ...ack, kind: 'acked' }),
          }
        : {}),
    });
    return entry;
  }

  function connectionMilestone(index: number, serialNumber: string, connection: BrokerConnection): void {
    const atMs = performance.now();
    if (connection.state === 'connected') milestone?.({ index, serialNumber, atMs, kind: 'connected' });
    else if (connection.state === 'disconnected') {
      milestone?.({ index, serialNumber, atMs, kind: 'disconnected', reason: connection.lastError });
    }
  }

  function onConnectionChange(entry: Tracked, connection: BrokerConnection): void {
    if (entry.state === 'connected') connected--;
    if (connection.state === 'connected') connected++;
    entry.state = connection.state;
    entry.lastError = connection.lastError;
    if (connection.state === 'connected' && !entry.everConnected) {
      entry.everConnected = true;
      firstConnections++;
      lastFirstConnectAt = performance.now();
    }
    if (entry.ramping && connection.state !== 'connecting') {
      entry.ramping = false;
      inFlight--;
      launch();
    }
  }

  function onApplied(entry: Tracked, _config: DeviceConfig): void {
    if (!entry.applied) {
      entry.applied = true;
      inSync++;
      if (inSync === count) settle();
    }
  }

  function launch(): void {
    while (inFlight < options.concurrency && next < count) {
      const entry = tracked[next++];
      entry.ramping = true;
      inFlight++;
      entry.gateway.start();
    }
  }

  const counts = () => ({
    count,
    connected,
    inSync,
    failed: tracked.filter(
      (t) => (t.state !== 'connected' && t.lastError !== null) || t.gateway.applyError !== null,
    ).length,
  });

  function settle(): void {
    if (summary) return;
    clearTimeout(settleTimer);
    const now = performance.now();
    summary = {
      ...counts(),
      connectMs: Math.round((firstConnections > 0 ? lastFirstConnectAt : now) - startedAt),
      elapsedMs: Math.round(now - startedAt),
    };
    printProgress();
    resolveSettled(summary);
  }

  let lastLine = '';
  function printProgress(): void {
    const c = counts();
    const line = `simulate: connected ${c.connected}/${count}, in-sync ${c.inSync}/${count}, failed ${c.failed}`;
    if (line !== lastLine) options.progress?.(line);
    lastLine = line;
  }

  const settleTimer = setTimeout(settle, options.settleTimeoutMs);
  const progressTimer = setInterval(printProgress, options.progressIntervalMs ?? 1000);
  if (count === 0) settle();
  launch();

  let closing: Promise<void> | null = null;
  return {
    gateways: tracked.map((t) => t.gateway),
    startedAtMs: startedAt,
    counts,
    firstFailure: () => {
      for (const t of tracked) {
        const reason = t.gateway.applyError ?? (t.state !== 'connected' ? t.lastError : null);
        if (reason !== null) return { serialNumber: t.gateway.serialNumber, reason };
      }
      return null;
    },
    settled,
    close: () => {
      closing ??= (async () => {
        clearTimeout(settleTimer);
        clearInterval(progressTimer);
        settle();
        // In batches, so thousands of goodbyes do not all hit the broker in the same instant.
        for (let i = 0; i < tracked.length; i += options.concurrency) {
          await Promise.all(tracked.slice(i, i + options.concurrency).map((t) => t.gateway.close()));
        }
      })();
      return closing;
    },
  };
}
