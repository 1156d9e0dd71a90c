import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type AccessRequest, type AccessResult, analyzeAccess } from './compile/access.js';
import { EdgePeers, edgeConfigWith, type PeerFacts, type PeerOmission } from './compile/edgeConfig.js';
import { EdgeRevisions } from './compile/edgeRevision.js';
import { compileGatewayConfig, MAX_TUNNELS } from './compile/gatewayConfig.js';
import { nextConfigRecord } from './compile/revision.js';
import { type CenRoute, cenRouteTable, membershipsOf } from './compile/routes.js';
import { changeScope, gatewaysInScope } from './compile/scope.js';
import type {
  AccessPoint,
  CompileSettings,
  EdgeSettings,
  GatewayConfig,
  RouteEntry,
} from './compile/types.js';
import { type DeviceEventInput, type DeviceStatePatch, DeviceStates } from './devices/deviceStates.js';

export type { DeviceEventInput, DeviceStatePatch } from './devices/deviceStates.js';

import { applyChangeset, collectionOf } from './domain/apply.js';
import { AREAS, areaOfRegion, isLocked } from './domain/index.js';
import { findEntity } from './domain/operations/lookup.js';
import type {
  Changeset,
  DomainSettings,
  EntityKind,
  EntityKinds,
  Gateway,
  OperationContext,
  Topology,
} from './domain/types.js';
import { SagError } from './errors.js';
import { type BrokerMetrics, createMetrics, type FleetCounts, registerFleetGauges } from './metrics.js';
import { pageOf } from './pagination.js';
import type {
  CompiledConfigRecord,
  DeviceStateRecord,
  EventQuery,
  Page,
  Store,
  StoredEvent,
} from './store/store.js';

export interface GatewayView extends Gateway {
  locked: boolean;
  presence: 'online' | 'offline';
}

export interface TunnelStatus {
  accessPoint: string;
  role: string;
  state: string;
  rttMs: number | null;
  lossPct: number | null;
  jitterMs: number | null;
}

/** Where a device stands against its desired config (a gateway's, or an edge agent's). */
export interface DeviceSync {
  presence: 'online' | 'offline';
  lastSeenAt: string | null;
  desiredRevision: number | null;
  appliedRevision: number | null;
  sync: 'in-sync' | 'pending' | 'failed';
  syncError: string | null;
}

export interface GatewayStatus extends DeviceSync {
  gatewayId: string;
  lifecycle: Gateway['lifecycle'];
  locked: boolean;
  tunnels: TunnelStatus[];
  ports: unknown[];
}

/** An access point as the API shows it: where it is, who runs it, and its edge agent's sync state. */
export interface AccessPointView extends DeviceSync {
  id: string;
  address: string;
  /** Its place in every gateway's tunnels; `spare` past the first two. */
  role: 'active' | 'standby' | 'spare';
  /** The edge agent's serial number; null for an access point the broker only lists. */
  serialNumber: string | null;
  tunnelPublicKey: string | null;
  /** Gateways whose tunnels it terminates. */
  peers: number;
  omittedPeers: PeerOmission[];
}

export interface CompiledConfigView {
  gatewayId: string;
  revision: number;
  hash: string;
  compiledAt: string;
  config: GatewayConfig;
}

export interface ControlPlaneOptions {
  store: Store;
  settings: DomainSettings;
  compile: CompileSettings;
  log: Logger;
  metrics?: BrokerMetrics;
  /** The clock; injectable so expiry can be tested. */
  now?: () => Date;
  /** How long device state and device events may wait in memory before one batched write. */
  deviceWriteDelayMs?: number;
  /** How long newly reported tunnel keys are gathered before one recompile (default 50 ms). */
  tunnelKeyDelayMs?: number;
}

/** Called with every gateway config whose content changed, after it is durable. */
export type ConfigListener = (record: CompiledConfigRecord) => void;

/** One entity a mutation wrote or removed, with its value before and after (null when absent). */
export type EntityChange = {
  [K in EntityKind]: { kind: K; id: string; before: EntityKinds[K] | null; after: EntityKinds[K] | null };
}[EntityKind];

/** What a durable mutation did, for those who react to it (the device link disconnects, activates...). */
export interface CommittedMutation {
  action: string;
  actor: string;
  at: Date;
  changes: EntityChange[];
  configs: CompiledConfigRecord[];
  removedConfigs: string[];
}

export type CommitListener = (mutation: CommittedMutation) => void;

const NO_ROUTES: readonly RouteEntry[] = Object.freeze([]);

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function newId(prefix: string): string {
  const bytes = randomBytes(12);
  let suffix = '';
  for (const byte of bytes) suffix += ID_ALPHABET[byte % ID_ALPHABET.length];
  return `${prefix}-${suffix}`;
}

/**
 * The control plane's service layer: it holds the topology in memory (loaded once from the store),
 * runs pure domain operations against it, commits each mutation durably, and recompiles only the
 * gateways a mutation can affect.
 */
export class ControlPlane {
  readonly topology: Topology;
  readonly settings: DomainSettings;
  readonly metrics: BrokerMetrics;
  private readonly store: Store;
  private readonly compileSettings: CompileSettings;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly configs: Map<string, CompiledConfigRecord>;
  private readonly devices: DeviceStates;
  private readonly configListeners: ConfigListener[] = [];
  private readonly commitListeners: CommitListener[] = [];
  /** serial number → gateway id; rebuilt after a mutation touches gateways. */
  private serialIndex: Map<string, string> | null = null;
  /** The access points run by edge agents (the same objects as in compileSettings). */
  private readonly edges: AccessPoint[];
  /** Gateways each edge-run access point leaves out of its peers, and why. */
  private readonly omittedPeers = new Map<string, PeerOmission[]>();
  /** The edges' peers as last compiled, updated in place: a mutation rebuilds only what it touched. */
  private readonly edgePeers = new EdgePeers();
  /** Gateways written or recompiled since the edges' peers were last updated. */
  private readonly edgeTouched = new Set<string>();
  private readonly edgeRevisions = new EdgeRevisions();
  /** Tunnel keys recorded and not yet compiled in; `gateways`: an edge's key changed. */
  private keysChanged: { gateways: boolean } | null = null;
  private keyTimer: NodeJS.Timeout | null = null;
  private readonly tunnelKeyDelayMs: number;

  constructor(options: ControlPlaneOptions) {
    this.store = options.store;
    this.settings = options.settings;
    // Copied: an edge agent's reported tunnel key is written into its access point below.
    this.compileSettings = {
      ...options.compile,
      accessPoints: options.compile.accessPoints.map((point) => ({ ...point })),
    };
    this.edges = this.compileSettings.accessPoints.filter((point) => point.serialNumber !== undefined);
    this.log = options.log;
    this.metrics = options.metrics ?? createMetrics();
    this.now = options.now ?? (() => new Date());
    this.tunnelKeyDelayMs = options.tunnelKeyDelayMs ?? 50;
    this.topology = this.store.loadTopology();
    this.configs = this.store.loadConfigs();
    this.devices = new DeviceStates(
      this.store,
      this.log,
      (gatewayId) => this.configs.get(gatewayId),
      this.now,
      options.deviceWriteDelayMs,
    );
    for (const point of this.edges) {
      const reported = this.devices.get(point.id)?.tunnelPublicKey;
      if (reported) point.publicKey = reported;
    }
    this.recompileAll();
    registerFleetGauges(this.metrics.registry, () => this.fleetCounts());
  }

  /** Gateways by lifecycle, bound devices by presence, active gateways by sync state. */
  fleetCounts(): FleetCounts {
    const counts: FleetCounts = {
      gatewaysByLifecycle: { ordered: 0, shipped: 0, active: 0 },
      devicesByPresence: { online: 0, offline: 0 },
      gatewaysBySync: { 'in-sync': 0, pending: 0, failed: 0 },
    };
    for (const gateway of this.topology.gateways.values()) {
      counts.gatewaysByLifecycle[gateway.lifecycle]++;
      if (gateway.serialNumber)
        counts.devicesByPresence[this.devices.get(gateway.id)?.presence ?? 'offline']++;
      if (gateway.lifecycle === 'active') counts.gatewaysBySync[this.devices.sync(gateway.id)]++;
    }
    return counts;
  }

  /**
   * Brings every stored config up to date with this broker's settings and compiler, so a changed
   * access point address or keepalive reaches devices on their next hello.
   */
  private recompileAll(): void {
    const at = this.now();
    const gateways = this.recompile(this.topology.gateways.keys(), at);
    const records = [...gateways, ...this.recompileEdges(at, gateways)];
    if (records.length === 0) return;
    this.store.putConfigs(records);
    for (const record of records) this.configs.set(record.gatewayId, record);
    this.metrics.configRevisions.inc(records.length);
    this.log.info(
      { recompiled: this.topology.gateways.size, newRevisions: records.length },
      'configs recompiled at start',
    );
  }

  onConfigChanged(listener: ConfigListener): void {
    this.configListeners.push(listener);
  }

  /** Called after each durable mutation, before the config listeners. */
  onCommitted(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  mutate<T = unknown>(
    actor: string,
    operation: (topology: Topology, ctx: OperationContext) => Changeset,
  ): T | null {
    const at = this.now();
    const changeset = operation(this.topology, { now: at, newId, settings: this.settings });
    const scope = changeScope(this.topology, changeset.changes);
    const before = changeset.changes.map((c) => {
      const id = c.op === 'put' ? c.value.id : c.id;
      return { kind: c.kind, id, value: collectionOf(this.topology, c.kind).get(id) ?? null };
    });
    const inverse = applyChangeset(this.topology, changeset);
    const started = performance.now();
    let configs: CompiledConfigRecord[];
    let recompiled: number;
    const removedConfigs = changeset.changes
      .filter((c) => c.op === 'delete' && c.kind === 'gateway' && this.configs.has(c.id))
      .map((c) => (c as { id: string }).id);
    const touched = before.filter((entry) => entry.kind === 'gateway').map((entry) => entry.id);
    try {
      const gatewayIds = gatewaysInScope(this.topology, scope);
      recompiled = gatewayIds.size;
      if (this.edges.length > 0) {
        for (const id of gatewayIds) touched.push(id);
        for (const id of touched) this.edgeTouched.add(id);
      }
      // Every access point guards every VPC and security group, so each mutation that can change
      // an edge revisits them (a few configs; only those whose content changed get a new revision).
      const gateways = this.recompile(gatewayIds, at);
      const edges = this.reachesEdges(before, gateways) ? this.recompileEdges(at, gateways, true) : [];
      configs = [...gateways, ...edges];
      this.store.commit({ changeset, actor, at, configs, removedConfigs });
    } catch (err) {
      // The store refused the write: put memory back exactly as it was so both agree, and have
      // the edges' peers look at these gateways again.
      applyChangeset(this.topology, { changes: inverse, audit: changeset.audit });
      if (this.edges.length > 0) for (const id of touched) this.edgeTouched.add(id);
      throw err;
    }
    const compileSeconds = (performance.now() - started) / 1000;
    for (const id of removedConfigs) this.configs.delete(id);
    for (const record of configs) this.configs.set(record.gatewayId, record);
    if (changeset.changes.some((c) => c.kind === 'gateway')) this.serialIndex = null;
    for (const c of changeset.changes) {
      if (c.op === 'delete' && c.kind === 'gateway') {
        this.devices.forget(c.id);
      }
    }
    this.metrics.mutations.inc({ action: changeset.audit.action });
    this.metrics.gatewaysRecompiled.inc(recompiled);
    this.metrics.configRevisions.inc(configs.length);
    this.metrics.lastMutationRecompiled.set(recompiled);
    this.metrics.compileSeconds.observe(compileSeconds);
    this.log.info(
      {
        action: changeset.audit.action,
        resourceId: changeset.audit.resourceId,
        actor,
        recompiled,
        newRevisions: configs.length,
        compileMs: Math.round(compileSeconds * 1e4) / 10,
      },
      'mutation committed',
    );
    const committed: CommittedMutation = {
      action: changeset.audit.action,
      actor,
      at,
      changes: before.map(
        ({ kind, id, value }) =>
          ({
            kind,
            id,
            before: value,
            after: collectionOf(this.topology, kind).get(id) ?? null,
          }) as EntityChange,
      ),
      configs,
      removedConfigs,
    };
    for (const listener of this.commitListeners) this.notify(listener, committed);
    for (const record of configs) for (const listener of this.configListeners) this.notify(listener, record);
    return this.resultOf<T>(changeset);
  }

  /** The mutation is durable whatever a listener does, so a listener's failure is only logged. */
  private notify<A>(listener: (arg: A) => void, arg: A): void {
    try {
      listener(arg);
    } catch (err) {
      this.log.error({ err }, 'a mutation listener failed');
    }
  }

  private recompile(gatewayIds: Iterable<string>, at: Date): CompiledConfigRecord[] {
    const records: CompiledConfigRecord[] = [];
    const members = membershipsOf(this.topology);
    for (const id of gatewayIds) {
      const config = compileGatewayConfig(this.topology, id, this.compileSettings, members);
      const previous = this.configs.get(id);
      const record = nextConfigRecord(previous, config, at);
      if (record) records.push(record);
      // Same content: keep the fresh copy, whose parts are shared with the rest of the batch
      // (a config loaded from the store shares nothing), so memory per gateway stays small.
      else if (previous) this.configs.set(id, { ...previous, config });
    }
    return records;
  }

  /**
   * Whether a mutation can change an edge's config, which holds VPCs, instances, security groups
   * and, per peer, a gateway's lifecycle, serial, blocks and routes. Anything else (ports, ACLs,
   * names, a route-less change) leaves every edge as it is, and skipping them keeps such mutations
   * from recompiling thousands of peers.
   */
  private reachesEdges(
    before: readonly { kind: EntityKind; id: string; value: unknown }[],
    gateways: readonly CompiledConfigRecord[],
  ): boolean {
    if (this.edges.length === 0) return false;
    for (const { kind, id, value } of before) {
      if (kind === 'vpc' || kind === 'instance' || kind === 'securityGroup') return true;
      if (kind !== 'gateway') continue;
      const old = value as Gateway | null;
      const now = this.topology.gateways.get(id);
      if (!old || !now) return true;
      if (old.lifecycle !== now.lifecycle || old.serialNumber !== now.serialNumber) return true;
      if (old.privateCidrs.join(' ') !== now.privateCidrs.join(' ')) return true;
    }
    return gateways.some((record) => {
      const previous = this.configs.get(record.gatewayId)?.config as GatewayConfig | undefined;
      const routes = (config: GatewayConfig | undefined) =>
        config?.routes.map((route) => route.destination).join(' ') ?? '';
      return routes(previous) !== routes(record.config as GatewayConfig);
    });
  }

  /**
   * `fresh`: gateway configs compiled in the same step, not yet in `configs`. `onlyTouched`: the
   * peers look only at the gateways in `edgeTouched` (a mutation's); otherwise at every gateway.
   */
  private recompileEdges(
    at: Date,
    fresh: readonly CompiledConfigRecord[] = [],
    onlyTouched = false,
  ): CompiledConfigRecord[] {
    if (this.edges.length === 0) return [];
    const records: CompiledConfigRecord[] = [];
    const latest = new Map(fresh.map((record) => [record.gatewayId, record]));
    const facts: PeerFacts = {
      tunnelKeyOf: (gatewayId) => this.devices.get(gatewayId)?.tunnelPublicKey ?? undefined,
      // The same array while a gateway's config stays: EdgePeers skips a gateway whose inputs are
      // the very same objects as last time.
      routesOf: (gatewayId) => {
        const record = latest.get(gatewayId) ?? this.configs.get(gatewayId);
        return (record?.config as GatewayConfig | undefined)?.routes ?? NO_ROUTES;
      },
    };
    const peers = this.edgePeers.update(this.topology, facts, onlyTouched ? this.edgeTouched : undefined);
    this.edgeTouched.clear();
    for (const point of this.edges) {
      const { config, omitted } = edgeConfigWith(this.topology, point, this.compileSettings, peers);
      this.omittedPeers.set(point.id, omitted);
      const record = this.edgeRevisions.next(this.configs.get(point.id), config, at);
      if (record) records.push(record);
    }
    return records;
  }

  /** Stores configs compiled outside a mutation and hands them to the device link. */
  private publishConfigs(records: CompiledConfigRecord[]): void {
    if (records.length === 0) return;
    this.store.putConfigs(records);
    for (const record of records) this.configs.set(record.gatewayId, record);
    this.metrics.configRevisions.inc(records.length);
    for (const record of records) for (const listener of this.configListeners) this.notify(listener, record);
  }

  /** The access point run by the edge agent with this serial number, if any. */
  accessPointBySerial(serialNumber: string): AccessPoint | undefined {
    return this.edges.find((point) => point.serialNumber === serialNumber);
  }

  /** The access point with this id when an edge agent runs it (and so has a device state). */
  edgeAccessPoint(id: string): AccessPoint | undefined {
    return this.edges.find((point) => point.id === id);
  }

  /**
   * A device reported its WireGuard public key (hello). A gateway's key goes into the access
   * points' peers; an edge's key into every gateway's tunnels. Nothing is recompiled when the key
   * is the one already known, so reconnects cost nothing.
   */
  recordTunnelKey(deviceId: string, serialNumber: string, publicKey: string): void {
    const known = this.devices.get(deviceId)?.tunnelPublicKey ?? null;
    if (known === publicKey) return;
    const point = this.edgeAccessPoint(deviceId);
    if (!point && !this.topology.gateways.has(deviceId)) return;
    this.devices.record(deviceId, serialNumber, { tunnelPublicKey: publicKey }, [
      { action: 'device.tunnel-key', details: { publicKey, previous: known } },
    ]);
    if (point) point.publicKey = publicKey;
    this.log.info({ deviceId, serialNumber, publicKey }, 'device tunnel key recorded');
    this.keysChanged = { gateways: (this.keysChanged?.gateways ?? false) || point !== undefined };
    this.keyTimer ??= setTimeout(() => this.flushTunnelKeys(), this.tunnelKeyDelayMs);
    this.keyTimer.unref?.();
  }

  /**
   * Recompiles for the tunnel keys recorded since the last time. Batched: a fleet connecting with
   * new keys costs one edge recompile per batch, not one per device.
   */
  flushTunnelKeys(): void {
    if (this.keyTimer) clearTimeout(this.keyTimer);
    this.keyTimer = null;
    const changed = this.keysChanged;
    this.keysChanged = null;
    if (!changed) return;
    // Configs below are built on these keys: they must be as durable as the configs.
    this.devices.flush();
    const at = this.now();
    const gateways = changed.gateways ? this.recompile(this.topology.gateways.keys(), at) : [];
    const records = [...gateways, ...this.recompileEdges(at, gateways)];
    this.log.info({ newRevisions: records.length }, 'configs recompiled for new tunnel keys');
    this.publishConfigs(records);
  }

  accessPoints(): AccessPointView[] {
    return this.compileSettings.accessPoints.map((point, index) => {
      const desired = this.configs.get(point.id);
      return {
        id: point.id,
        address: point.address,
        role: index >= MAX_TUNNELS ? 'spare' : index === 0 ? 'active' : 'standby',
        serialNumber: point.serialNumber ?? null,
        tunnelPublicKey: point.publicKey ?? null,
        ...this.deviceSync(point.id),
        peers: (desired?.config as GatewayConfig | undefined)?.edge?.peers.length ?? 0,
        omittedPeers: this.omittedPeers.get(point.id) ?? [],
      };
    });
  }

  accessPoint(id: string): AccessPointView {
    const view = this.accessPoints().find((point) => point.id === id);
    if (!view) {
      throw new SagError('NOT_FOUND', `access point ${id} not found`, {
        resourceType: 'access-point',
        resourceId: id,
      });
    }
    return view;
  }

  /** The latest config of an access point run by an edge agent. */
  accessPointConfig(id: string): CompiledConfigView & { config: { edge: EdgeSettings } } {
    const view = this.accessPoint(id);
    const record = view.serialNumber ? this.configs.get(id) : undefined;
    if (!record) {
      throw new SagError(
        'NOT_FOUND',
        `access point ${id} has no config: only an access point run by an edge agent (serialNumber in the broker's config file) gets one`,
        { resourceType: 'access-point', resourceId: id },
      );
    }
    return { ...record, config: record.config as GatewayConfig & { edge: EdgeSettings } };
  }

  private resultOf<T>(changeset: Changeset): T | null {
    const { resourceType, resourceId } = changeset.audit;
    const entity = collectionOf(this.topology, resourceType).get(resourceId);
    return (entity as T | undefined) ?? null;
  }

  get<K extends EntityKind>(kind: K, id: string): EntityKinds[K] {
    return findEntity(this.topology, kind, id);
  }

  list<K extends EntityKind>(
    kind: K,
    page: { limit?: number; cursor?: string },
    filter?: (entity: EntityKinds[K]) => boolean,
  ): Page<EntityKinds[K]> {
    return pageOf(collectionOf(this.topology, kind).values(), page, filter);
  }

  /** The gateway a device serial number is bound to, if any. */
  gatewayBySerial(serialNumber: string): Gateway | undefined {
    if (!this.serialIndex) {
      this.serialIndex = new Map();
      for (const g of this.topology.gateways.values())
        if (g.serialNumber) this.serialIndex.set(g.serialNumber, g.id);
    }
    const id = this.serialIndex.get(serialNumber);
    return id === undefined ? undefined : this.topology.gateways.get(id);
  }

  isLocked(gateway: Gateway): boolean {
    return isLocked(gateway, this.now());
  }

  /** A gateway's device runtime state as last recorded. */
  deviceState(gatewayId: string): DeviceStateRecord | undefined {
    return this.devices.get(gatewayId);
  }

  /**
   * Updates a device's runtime state in memory at once and queues it, with its events, for the
   * next batched write (see DeviceStateWriter). The id is a gateway's, or an access point's for an
   * edge agent. Null when neither exists (any more).
   */
  recordDevice(
    gatewayId: string,
    serialNumber: string,
    patch: DeviceStatePatch,
    events: DeviceEventInput[] = [],
  ): DeviceStateRecord | null {
    if (!this.topology.gateways.has(gatewayId) && !this.edgeAccessPoint(gatewayId)) return null;
    return this.devices.record(gatewayId, serialNumber, patch, events);
  }

  /** Queues device events (tunnel up/down, ...) for the next batched write. */
  recordDeviceEvents(gatewayId: string, serialNumber: string, events: DeviceEventInput[]): void {
    this.devices.recordEvents(gatewayId, serialNumber, events);
  }

  /** Writes queued device state and events now (before the store closes, and in tests). */
  flushDeviceWrites(): void {
    this.flushTunnelKeys();
    this.devices.flush();
  }

  gatewayView(gateway: Gateway): GatewayView {
    const device = this.devices.get(gateway.id);
    return { ...gateway, locked: isLocked(gateway, this.now()), presence: device?.presence ?? 'offline' };
  }

  /** A device's presence and sync; an access point no edge agent runs has no config, so is in sync. */
  private deviceSync(id: string): DeviceSync {
    const device = this.devices.get(id);
    const sync = this.devices.sync(id);
    return {
      presence: device?.presence ?? 'offline',
      lastSeenAt: device?.lastSeenAt ?? null,
      desiredRevision: this.configs.get(id)?.revision ?? null,
      appliedRevision: device?.appliedRevision ?? null,
      sync,
      syncError: sync === 'failed' ? (device?.syncError ?? null) : null,
    };
  }

  gatewayStatus(id: string): GatewayStatus {
    const gateway = this.get('gateway', id);
    const report = (this.devices.get(id)?.report ?? {}) as { tunnels?: TunnelStatus[]; ports?: unknown[] };
    return {
      gatewayId: id,
      lifecycle: gateway.lifecycle,
      locked: isLocked(gateway, this.now()),
      ...this.deviceSync(id),
      tunnels: report.tunnels ?? [],
      ports: report.ports ?? [],
    };
  }

  gatewayConfig(id: string): CompiledConfigView {
    this.get('gateway', id);
    const record = this.configs.get(id);
    if (!record) {
      throw new SagError('NOT_FOUND', `gateway ${id} has no compiled config yet`, { id });
    }
    return { ...record, config: record.config as GatewayConfig };
  }

  /** The latest compiled config of a gateway, if any (used by the device link). */
  configRecord(id: string): CompiledConfigRecord | undefined {
    return this.configs.get(id);
  }
  /**
   * A device runs a revision above the desired one (the broker's data was restored from an older
   * backup, say): issue the same config under a revision above the device's, so the device takes
   * it instead of ignoring it as stale.
   */
  reissueAbove(gatewayId: string, deviceRevision: number): CompiledConfigRecord | undefined {
    const current = this.configs.get(gatewayId);
    if (!current || current.revision >= deviceRevision) return current;
    const record = { ...current, revision: deviceRevision + 1, compiledAt: this.now().toISOString() };
    this.store.putConfigs([record]);
    this.configs.set(gatewayId, record);
    this.log.warn(
      { gatewayId, deviceRevision, revision: record.revision },
      'device is ahead of the desired revision; config reissued above it',
    );
    for (const listener of this.configListeners) this.notify(listener, record);
    return record;
  }

  cenRoutes(cenId: string): CenRoute[] {
    this.get('cen', cenId);
    return cenRouteTable(this.topology, cenId, areaOfRegion);
  }

  accessTest(request: AccessRequest): AccessResult {
    return analyzeAccess(
      this.topology,
      (gatewayId) => {
        const gateway = this.topology.gateways.get(gatewayId);
        return gateway ? this.gatewayStatus(gatewayId) : undefined;
      },
      { ...request, now: this.now() },
      areaOfRegion,
    );
  }

  events(query: EventQuery): Page<StoredEvent> {
    // Device events are batched; a reader must see everything recorded before it asked.
    this.devices.flush();
    return this.store.listEvents(query);
  }

  areas(): { area: string; regions: string[]; enabled: boolean }[] {
    return Object.entries(AREAS).map(([area, regions]) => ({
      area,
      regions: [...regions],
      enabled: this.settings.enabledAreas.includes(area),
    }));
  }
}
