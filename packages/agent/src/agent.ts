import { join } from 'node:path';
import { type AgentStatus, buildStatus, STATUS_FILE, writeStatus } from './agentStatus.js';
import { type BootOutcome, ConfigApplier } from './apply/applier.js';
import { type DeviceConfig, validateDeviceConfig } from './config.js';
import type { DataPlane } from './dataplane/dataplane.js';
import { EdgeRoleDataPlane } from './dataplane/edge/edgeRole.js';
import { DEFAULT_EDGE_LISTEN, dataPlaneChoiceProblem, openDataPlane, parseListen } from './dataplane/open.js';
import { errorMessage } from './errors.js';
import { loadIdentity } from './identity/identity.js';
import { type Clock, realClock } from './keepalive/clock.js';
import { type ProbeResponder, startProbeResponder } from './keepalive/probeResponder.js';
import type { ProbeTransport } from './keepalive/transport.js';
import { type TunnelEvent, TunnelMonitor, type TunnelStats } from './keepalive/tunnelMonitor.js';
import { UdpProbeTransport } from './keepalive/udpTransport.js';
import type { BackoffOptions } from './session/backoff.js';
import { assertBrokerUrl, DeviceSession, SESSION_DEFAULTS } from './session/deviceSession.js';
import { type AgentLog, silentLog } from './session/log.js';
import { buildReport, tunnelEventMessage } from './session/report.js';
import { removeStaleTempFiles } from './state/atomicFile.js';

export interface AgentOptions {
  stateDir: string;
  brokerUrl: string;
  /** PEM CA certificates trusted for an mqtts:// or wss:// broker (`--ca`); the system's when absent. */
  ca?: string;
  /** `emulated` (default): an in-memory model; `linux`: the kernel of the namespace the agent runs in. */
  dataplane?: 'emulated' | 'linux';
  /** `branch` (default): a gateway; `edge`: an access point (needs the linux data plane). */
  role?: 'branch' | 'edge';
  /**
   * Edge role only: where the keepalive probe responder listens, `HOST:PORT` (default
   * 0.0.0.0:51820); the access point's WireGuard listens on PORT + 1.
   */
  listen?: string;
  keepaliveSeconds?: number;
  reportIntervalMs?: number;
  log?: AgentLog;
  /** Keepalive, report and reconnect timers; fake in tests. */
  clock?: Clock;
  /** Seams for tests and the simulator: a prepared data plane, an in-memory probe network. */
  dataPlane?: DataPlane;
  probeTransport?: ProbeTransport;
  backoff?: BackoffOptions;
  /** The broker asked for a reboot; the CLI exits so its supervisor restarts it. */
  onReboot?: () => void;
}

export interface Agent {
  readonly serialNumber: string;
  /** What happened to last-known-good at start, before any network. */
  readonly boot: BootOutcome;
  readonly dataPlane: DataPlane;
  readonly session: DeviceSession;
  /** Edge role: the keepalive probe responder; null for a branch gateway. */
  readonly responder: ProbeResponder | null;
  tunnels(): TunnelStats[];
  status(): AgentStatus;
  /** Writes status.json now (it is also written after every apply and report). */
  saveStatus(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Boots the device: identity, then (an access point) the probe responder, then last-known-good
 * onto the data plane and (a branch) its tunnels under keepalive — all before the broker is
 * contacted, so a branch or an access point keeps working when the cloud is away — then the
 * session to the broker.
 */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const log = options.log ?? silentLog;
  const clock = options.clock ?? realClock;
  const dataplane = options.dataplane ?? 'emulated';
  const role = options.role ?? 'branch';
  assertBrokerUrl(options.brokerUrl);
  const choiceProblem = dataPlaneChoiceProblem(dataplane, role, options.listen);
  if (choiceProblem) throw new RangeError(choiceProblem);
  const identity = await loadIdentity(options.stateDir);
  const { serialNumber } = identity;
  const responder = role === 'edge' ? await startProbeResponder({ ...listenAt(options.listen), log }) : null;
  let dataPlane: DataPlane;
  try {
    dataPlane =
      options.dataPlane ?? (await openDataPlane({ dataplane, role, stateDir: options.stateDir, log }));
  } catch (err) {
    await responder?.close();
    throw err;
  }
  const probePort = responder?.address.port;
  const applier = new ConfigApplier({
    stateDir: options.stateDir,
    dataPlane,
    validate: (config) => validateDeviceConfig(config, { role, probePort }),
  });
  const boot = await applier.bootFromLastKnownGood();
  logBoot(log, boot);
  // An access point probes nothing: the gateways probe it.
  const transport =
    role === 'edge' ? null : (options.probeTransport ?? (await UdpProbeTransport.open({ serialNumber })));
  const startedAt = clock.now();
  let monitor: TunnelMonitor | null = null;
  let multiplier: number | undefined;
  let session: DeviceSession;

  const feedLinkStates = () => {
    if (monitor) dataPlane.setTunnelStates(monitor.linkStates());
  };
  const onTunnelEvent = (event: TunnelEvent) => {
    feedLinkStates();
    log.info(`tunnel ${event.kind}`, { ...event });
    session.publishEvent(tunnelEventMessage(event, multiplier));
    statusWriter.request();
  };
  const watchTunnels = (config: DeviceConfig) => {
    if (!transport) return;
    multiplier = config.keepalive.multiplier;
    if (monitor) monitor.reconfigure(config.tunnels, config.keepalive);
    else {
      monitor = new TunnelMonitor({ clock, transport, tunnels: config.tunnels, keepalive: config.keepalive });
      monitor.onEvent(onTunnelEvent);
      monitor.start();
    }
    feedLinkStates();
  };
  const tunnels = () => monitor?.stats() ?? [];
  const edgeView = dataPlane instanceof EdgeRoleDataPlane ? dataPlane : null;
  const status = () =>
    buildStatus({
      serialNumber,
      agentState: session.agentState,
      dataplane,
      role,
      snapshot: dataPlane.snapshot(),
      tunnelStats: tunnels(),
      broker: session.connection,
      boot,
      now: Date.now(),
      ...(responder
        ? {
            edge: {
              listen: `${responder.address.host}:${responder.address.port}`,
              probesAnswered: responder.answered,
              applied: edgeView?.edgeState() ?? null,
            },
          }
        : {}),
    });
  const statusWriter = new StatusWriter(() => writeStatus(options.stateDir, status()), log);
  await removeStaleTempFiles(join(options.stateDir, STATUS_FILE));

  if (applier.applied) watchTunnels(applier.applied);
  session = new DeviceSession({
    brokerUrl: options.brokerUrl,
    ca: options.ca,
    identity,
    applier,
    dataPlane,
    dataplane,
    role,
    keepaliveSeconds: options.keepaliveSeconds,
    reportIntervalMs: options.reportIntervalMs ?? SESSION_DEFAULTS.reportIntervalMs,
    backoff: options.backoff,
    log,
    clock,
    onReboot: options.onReboot,
    onConfigApplied: (config) => {
      watchTunnels(config);
      statusWriter.request();
    },
    onConnectionChange: () => statusWriter.request(),
    report: () => {
      feedLinkStates();
      return buildReport({
        appliedRevision: applier.applied?.revision ?? 0,
        tunnels: tunnels(),
        ports: dataPlane.snapshot().ports,
        uptimeMs: clock.now() - startedAt,
      });
    },
    onReport: () => statusWriter.request(),
  });
  await statusWriter.flush();
  session.start();

  let closing: Promise<void> | null = null;
  return {
    serialNumber,
    boot,
    dataPlane,
    session,
    responder,
    tunnels,
    status,
    saveStatus: () => statusWriter.flush(),
    close: () => {
      closing ??= (async () => {
        await session.close();
        monitor?.stop();
        await statusWriter.flush();
        await transport?.close();
        // Kernel state stays (data planes' close), so traffic keeps flowing across a restart.
        await dataPlane.close();
        await responder?.close();
        log.info('agent stopped');
      })();
      return closing;
    },
  };
}

function listenAt(listen = DEFAULT_EDGE_LISTEN): { host: string; port: number } {
  const at = parseListen(listen);
  if (!at) throw new RangeError(`listen ${JSON.stringify(listen)} is not HOST:PORT`);
  return at;
}

function logBoot(log: AgentLog, boot: BootOutcome): void {
  if (boot.result === 'applied')
    log.info('last-known-good applied', { revision: boot.revision, hash: boot.hash });
  else if (boot.result === 'none')
    log.info('no last-known-good config; waiting for the broker', { reason: boot.reason });
  else log.error('last-known-good could not be applied; starting empty', { error: boot.error });
}

/** Writes status.json one at a time; requests made during a write collapse into one more write. */
class StatusWriter {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly log: AgentLog,
  ) {}

  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves once a write that started after this call has finished. */
  async flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      await this.running;
    } else {
      this.running = this.loop();
      await this.running;
    }
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.write();
      } catch (err) {
        this.log.warn('cannot write status.json', { error: errorMessage(err) });
      }
    } while (this.again);
    this.running = null;
  }
}
