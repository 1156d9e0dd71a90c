import { randomUUID } from 'node:crypto';
import { cloudTopic, encodeCommand, encodeDesiredConfig } from '@opensag/proto';
import type { GatewayConfig } from '../compile/types.js';
import type { CommittedMutation } from '../controlPlane.js';
import type { Gateway } from '../domain/types.js';
import type { CompiledConfigRecord } from '../store/store.js';
import type { DeviceLinkContext } from './context.js';
import { checkOutput, OUTPUT_LIMITS, type OutputLimits } from './outputBacklog.js';
import { RetryWheel } from './retryWheel.js';
import type { DeviceSession } from './sessions.js';

export interface PushOptions {
  /** First retry of an unacked config; doubles up to `maxRetryMs`. */
  initialRetryMs?: number;
  maxRetryMs?: number;
  /** Configs sent in one go before yielding to the event loop (default 500). */
  batchSize?: number;
  /** When a device that does not read its output is dropped (OUTPUT_LIMITS by default). */
  output?: Partial<OutputLimits>;
}

/**
 * Extra wait before a retry per config already waiting for its ack: thousands of devices ack a
 * fleet-wide change over a second or two, and a retry before that would send every config twice.
 */
const BACKLOG_MS_PER_PUSH = 0.5;

interface Outstanding {
  revision: number;
  hash: string;
  attempts: number;
}

/**
 * Config push (SPEC §5): the desired config goes to an active, unlocked gateway's connected
 * device whenever what it applied differs from what is desired, and is re-sent with exponential
 * backoff until the device acks it or goes away. Nothing is polled: every trigger is an event
 * (new revision, activation, renewal, hello).
 */
export class ConfigPush {
  private readonly outstanding = new Map<string, Outstanding>();
  /** Sends waiting for the next batch: device id → attempt. */
  private readonly queue = new Map<string, number>();
  private drainScheduled: NodeJS.Immediate | null = null;
  private readonly retries: RetryWheel;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly batchSize: number;
  private readonly outputLimits: OutputLimits;

  constructor(
    private readonly ctx: DeviceLinkContext,
    options: PushOptions = {},
  ) {
    this.initialRetryMs = options.initialRetryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
    this.batchSize = options.batchSize ?? 500;
    this.outputLimits = { ...OUTPUT_LIMITS, ...options.output };
    this.retries = new RetryWheel((ids) => {
      for (const id of ids) this.enqueue(id, (this.outstanding.get(id)?.attempts ?? 0) + 1);
    });
  }

  /**
   * Sends the desired config soon if the device needs it and may have it. Sends go out in batches
   * with the event loop free in between: a mutation answers its caller before ten thousand configs
   * are encoded, acks are read meanwhile, and aedes is never fed thousands of publishes in one go
   * (its emitter's stack overflows).
   */
  reconcile(gatewayId: string): void {
    const record = this.ctx.controlPlane.configRecord(gatewayId);
    const current = this.outstanding.get(gatewayId);
    if (record && current && current.revision === record.revision && current.hash === record.hash) return;
    this.cancel(gatewayId);
    this.enqueue(gatewayId, 1);
  }

  /** Sends or queued sends not acked yet. */
  get pending(): number {
    return this.outstanding.size + this.queue.size;
  }

  /** The device answered for `revision` (applied or not): stop re-sending it. */
  acked(gatewayId: string, revision: number): void {
    if (this.outstanding.get(gatewayId)?.revision === revision) this.cancel(gatewayId);
  }

  /** Stops re-sending (the device went away; its hello will say what it needs). */
  cancel(gatewayId: string): void {
    this.queue.delete(gatewayId);
    if (!this.outstanding.delete(gatewayId)) return;
    this.retries.remove(gatewayId);
  }

  /** Tells a connected device its gateway is active (idempotent on the device). */
  sendActivation(gateway: Gateway): void {
    const session = gateway.serialNumber ? this.ctx.sessions.bySerial(gateway.serialNumber) : undefined;
    if (!session || gateway.lifecycle !== 'active') return;
    // A small notice sent once: it may queue behind a backlog, unless the device is dropped for it.
    if (checkOutput(this.ctx, session, this.outputLimits) === 'dropped') return;
    const payload = encodeCommand({
      commandId: randomUUID(),
      activation: {
        gatewayId: gateway.id,
        activatedAtMs: gateway.activatedAt ? Date.parse(gateway.activatedAt) : 0,
        expiresAtMs: gateway.expiresAt ? Date.parse(gateway.expiresAt) : 0,
      },
    });
    this.publish(session.serialNumber, 'cmd', payload, { gatewayId: gateway.id, command: 'activation' });
  }

  /** Reacts to a durable mutation: activation sends the notice and the first config at once. */
  onCommitted(mutation: CommittedMutation): void {
    for (const change of mutation.changes) {
      if (change.kind !== 'gateway') continue;
      if (!change.after) {
        this.cancel(change.id);
        continue;
      }
      if (change.after.lifecycle === 'active' && change.before?.lifecycle !== 'active') {
        this.sendActivation(change.after);
      }
      // Also covers renewal (a locked gateway unlocks) and rebinding.
      this.reconcile(change.id);
    }
  }

  close(): void {
    this.outstanding.clear();
    this.queue.clear();
    this.retries.close();
    if (this.drainScheduled) clearImmediate(this.drainScheduled);
    this.drainScheduled = null;
  }

  private enqueue(gatewayId: string, attempt: number): void {
    this.queue.set(gatewayId, attempt);
    this.drainScheduled ??= setImmediate(() => this.drain());
  }

  /** Sends one batch of the queue, and schedules the next while any remain. */
  private drain(): void {
    this.drainScheduled = null;
    let budget = this.batchSize;
    for (const [gatewayId, attempt] of this.queue) {
      if (budget-- === 0) break;
      this.queue.delete(gatewayId);
      this.sendGuarded(gatewayId, attempt);
    }
    if (this.queue.size > 0) this.drainScheduled = setImmediate(() => this.drain());
  }

  /**
   * One device's send, so that a config that cannot be encoded (a stored value past a protocol
   * limit) is logged with its gateway and the rest of the batch still goes out; thrown from
   * `setImmediate`, it would end the broker.
   */
  private sendGuarded(gatewayId: string, attempt: number): void {
    try {
      this.send(gatewayId, attempt);
    } catch (err) {
      this.cancel(gatewayId);
      this.ctx.log.error(
        { gatewayId, attempt, err: err instanceof Error ? err.message : String(err) },
        'config push failed: the config could not be sent',
      );
    }
  }

  private target(deviceId: string): { record: CompiledConfigRecord; session: DeviceSession } | null {
    const serialNumber = this.recipient(deviceId);
    const session = serialNumber ? this.ctx.sessions.bySerial(serialNumber) : undefined;
    if (!session) return null;
    const cp = this.ctx.controlPlane;
    const record = cp.configRecord(deviceId);
    if (!record) return null;
    const device = cp.deviceState(deviceId);
    if (device?.appliedRevision === record.revision && device.appliedHash === record.hash) return null;
    // The device refused this very revision; re-sending it would fail the same way.
    if (device?.failedRevision === record.revision) return null;
    return { record, session };
  }

  /**
   * Who may have the config: an active, unlocked gateway's bound device, or the edge agent of an
   * access point (device ids are gateway ids or access point ids).
   */
  private recipient(deviceId: string): string | null {
    const cp = this.ctx.controlPlane;
    const gateway = cp.topology.gateways.get(deviceId);
    if (!gateway) return cp.edgeAccessPoint(deviceId)?.serialNumber ?? null;
    if (!gateway.serialNumber || gateway.lifecycle !== 'active' || cp.isLocked(gateway)) return null;
    return gateway.serialNumber;
  }

  private send(gatewayId: string, attempt: number): void {
    const target = this.target(gatewayId);
    if (!target) {
      this.cancel(gatewayId);
      return;
    }
    const { record, session } = target;
    const output = checkOutput(this.ctx, session, this.outputLimits);
    if (output === 'dropped') {
      this.cancel(gatewayId);
      return;
    }
    // The device has not taken what was sent before: a copy now would only pile up behind it.
    // The retry looks again, and drops the device once its backlog is too old (outputBacklog.ts).
    if (output === 'clear') {
      const payload = encodeDesiredConfig({
        ...(record.config as GatewayConfig),
        revision: record.revision,
        hash: record.hash,
      });
      this.publish(session.serialNumber, 'config', payload, {
        gatewayId,
        revision: record.revision,
        attempt,
      });
    } else {
      this.ctx.log.debug(
        { serialNumber: session.serialNumber, gatewayId, revision: record.revision, attempt },
        'config held back: the device has not read what was sent before',
      );
    }
    const backoff = Math.min(this.initialRetryMs * 2 ** (attempt - 1), this.maxRetryMs);
    this.retries.schedule(gatewayId, backoff + this.outstanding.size * BACKLOG_MS_PER_PUSH);
    this.outstanding.set(gatewayId, { revision: record.revision, hash: record.hash, attempts: attempt });
  }

  private publish(
    serialNumber: string,
    kind: 'config' | 'cmd',
    payload: Buffer,
    fields: Record<string, unknown>,
  ) {
    this.ctx.log.debug({ serialNumber, ...fields }, `sending ${kind} to device`);
    this.ctx.publish(cloudTopic(serialNumber, kind), payload).catch((err) => {
      this.ctx.log.warn({ err, serialNumber, ...fields }, `could not send ${kind} to device`);
    });
  }
}
