import { randomUUID } from 'node:crypto';
import { cloudTopic, encodeCommand, encodeDesiredConfig } from '@opensag/proto';
import type { GatewayConfig } from '../compile/types.js';
import type { CommittedMutation } from '../controlPlane.js';
import type { Gateway } from '../domain/types.js';
import type { CompiledConfigRecord } from '../store/store.js';
import type { DeviceLinkContext } from './context.js';
import { RetryWheel } from './retryWheel.js';

export interface PushOptions {
  /** First retry of an unacked config; doubles up to `maxRetryMs`. */
  initialRetryMs?: number;
  maxRetryMs?: number;
  /** Configs sent in one go before yielding to the event loop (default 500). */
  batchSize?: number;
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

  constructor(
    private readonly ctx: DeviceLinkContext,
    options: PushOptions = {},
  ) {
    this.initialRetryMs = options.initialRetryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
    this.batchSize = options.batchSize ?? 500;
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
      this.send(gatewayId, attempt);
    }
    if (this.queue.size > 0) this.drainScheduled = setImmediate(() => this.drain());
  }

  private target(deviceId: string): { record: CompiledConfigRecord; serialNumber: string } | null {
    const serialNumber = this.recipient(deviceId);
    if (!serialNumber || !this.ctx.sessions.bySerial(serialNumber)) return null;
    const cp = this.ctx.controlPlane;
    const record = cp.configRecord(deviceId);
    if (!record) return null;
    const device = cp.deviceState(deviceId);
    if (device?.appliedRevision === record.revision && device.appliedHash === record.hash) return null;
    // The device refused this very revision; re-sending it would fail the same way.
    if (device?.failedRevision === record.revision) return null;
    return { record, serialNumber };
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
    const { record, serialNumber } = target;
    const payload = encodeDesiredConfig({
      ...(record.config as GatewayConfig),
      revision: record.revision,
      hash: record.hash,
    });
    this.publish(serialNumber, 'config', payload, { gatewayId, revision: record.revision, attempt });
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
