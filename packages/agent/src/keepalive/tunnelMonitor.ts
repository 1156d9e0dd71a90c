import type { KeepaliveSettings, TunnelConfig } from '../config.js';
import type { LinkStatus, TunnelLinkState } from '../dataplane/dataplane.js';
import type { Clock, TimerHandle } from './clock.js';
import { ProbeWindow } from './probeWindow.js';
import type { ProbeReplyReceived, ProbeTransport } from './transport.js';

export type TunnelEventKind = 'tunnel-up' | 'tunnel-down' | 'failover' | 'failback';

export interface TunnelEvent {
  kind: TunnelEventKind;
  /** The tunnel that changed state, or for failover/failback the one now carrying traffic. */
  accessPoint: string;
  /** For failover/failback: the tunnel traffic moved away from. */
  from?: string;
  at: number;
}

export interface TunnelStats {
  accessPoint: string;
  address: string;
  role: TunnelConfig['role'];
  status: LinkStatus;
  carrying: boolean;
  rttMs: number | null;
  averageRttMs: number | null;
  lossPercent: number;
  jitterMs: number;
  probesSent: number;
  repliesReceived: number;
  consecutiveMisses: number;
  /** When the status last changed; null while unknown. */
  statusSince: number | null;
}

interface Tracked {
  config: TunnelConfig;
  status: LinkStatus;
  statusSince: number | null;
  misses: number;
  /** Seq of the probe still waiting for its reply. */
  awaiting: number | null;
  /** Fires `multiplier` intervals after the last reply: the tunnel has been silent that long. */
  silence: TimerHandle | null;
  window: ProbeWindow;
  sent: number;
  received: number;
}

export interface TunnelMonitorOptions {
  clock: Clock;
  transport: ProbeTransport;
  tunnels: readonly TunnelConfig[];
  keepalive: KeepaliveSettings;
}

/**
 * Probes every access point each `intervalMs`. A probe unanswered by the next round is a miss.
 * A tunnel goes down when nothing has answered for `multiplier` intervals since its last reply
 * (BFD's detection time, so traffic moves within interval × multiplier of the failure), or after
 * `multiplier` consecutive misses when it never answered; one reply brings it up. Traffic moves to
 * the standby when the active goes down, and back only after the active has stayed up for
 * `holdDownMs`, so an active that flaps does not drag traffic with it.
 */
export class TunnelMonitor {
  private readonly clock: Clock;
  private readonly transport: ProbeTransport;
  private keepalive: KeepaliveSettings;
  private tracked = new Map<string, Tracked>();
  private outstanding = new Map<number, { accessPoint: string; sentAt: number }>();
  private listeners = new Set<(event: TunnelEvent) => void>();
  private carrierId: string | null = null;
  private nextSeq = 1;
  private roundTimer: TimerHandle | null = null;
  private holdDownTimer: TimerHandle | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(options: TunnelMonitorOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    this.keepalive = { ...options.keepalive };
    this.track(options.tunnels);
  }

  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.transport.onReply((reply) => this.onReply(reply));
    this.round();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancel('roundTimer');
    this.cancel('holdDownTimer');
    this.outstanding.clear();
    for (const t of this.tracked.values()) {
      t.awaiting = null;
      this.quiet(t);
    }
  }

  /** Takes a new config's tunnels and settings, keeping the history of tunnels that did not change. */
  reconfigure(tunnels: readonly TunnelConfig[], keepalive: KeepaliveSettings): void {
    const running = this.unsubscribe !== null;
    this.stop();
    this.keepalive = { ...keepalive };
    this.track(tunnels);
    this.selectCarrier();
    if (running) this.start();
  }

  onEvent(listener: (event: TunnelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The access point traffic is routed into. */
  carrier(): string | null {
    return this.carrierId;
  }

  /** Link states in the form the data plane takes. */
  linkStates(): TunnelLinkState[] {
    return [...this.tracked.values()].map((t) => {
      const rttMs = t.window.lastRttMs;
      return {
        accessPoint: t.config.accessPoint,
        status: t.status,
        carrying: t.config.accessPoint === this.carrierId,
        ...(rttMs !== null ? { rttMs } : {}),
      };
    });
  }

  stats(): TunnelStats[] {
    return [...this.tracked.values()].map((t) => ({
      accessPoint: t.config.accessPoint,
      address: t.config.address,
      role: t.config.role,
      status: t.status,
      carrying: t.config.accessPoint === this.carrierId,
      rttMs: t.window.lastRttMs,
      averageRttMs: t.window.averageRttMs,
      lossPercent: t.window.lossPercent,
      jitterMs: t.window.jitterMs,
      probesSent: t.sent,
      repliesReceived: t.received,
      consecutiveMisses: t.misses,
      statusSince: t.statusSince,
    }));
  }

  private track(tunnels: readonly TunnelConfig[]): void {
    const previous = this.tracked;
    this.tracked = new Map();
    for (const config of tunnels) {
      const kept = previous.get(config.accessPoint);
      if (kept && kept.config.address === config.address) {
        kept.config = { ...config };
        kept.window.resize(this.keepalive.lossWindow);
        this.tracked.set(config.accessPoint, kept);
      } else {
        this.tracked.set(config.accessPoint, {
          config: { ...config },
          status: 'unknown',
          statusSince: null,
          misses: 0,
          awaiting: null,
          silence: null,
          window: new ProbeWindow(this.keepalive.lossWindow),
          sent: 0,
          received: 0,
        });
      }
    }
    if (this.carrierId === null || !this.tracked.has(this.carrierId))
      this.carrierId = this.role('active')?.config.accessPoint ?? null;
  }

  /** One probing round: settle the previous probes, then send the next ones. */
  private round(): void {
    for (const t of this.tracked.values()) {
      if (t.awaiting !== null) this.miss(t);
    }
    this.selectCarrier();
    for (const t of this.tracked.values()) this.sendProbe(t);
    this.roundTimer = this.clock.setTimeout(() => this.round(), this.keepalive.intervalMs);
  }

  private sendProbe(t: Tracked): void {
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1;
    const sentAt = this.clock.now();
    this.outstanding.set(seq, { accessPoint: t.config.accessPoint, sentAt });
    t.awaiting = seq;
    t.sent++;
    try {
      this.transport.send(t.config.address, { seq, sentAtMs: sentAt });
    } catch {
      // An unsendable probe is a missed probe; the next round counts it.
    }
  }

  private miss(t: Tracked): void {
    this.outstanding.delete(t.awaiting as number);
    t.awaiting = null;
    t.misses++;
    t.window.record(null);
    if (t.misses >= this.keepalive.multiplier && t.status !== 'down') this.setStatus(t, 'down');
  }

  private onReply(reply: ProbeReplyReceived): void {
    const probe = this.outstanding.get(reply.seq);
    if (!probe) return;
    const t = this.tracked.get(probe.accessPoint);
    this.outstanding.delete(reply.seq);
    if (!t || t.awaiting !== reply.seq) return;
    t.awaiting = null;
    t.received++;
    t.misses = 0;
    t.window.record(Math.max(0, this.clock.now() - probe.sentAt));
    this.quiet(t);
    t.silence = this.clock.setTimeout(() => {
      t.silence = null;
      if (t.status === 'down') return;
      this.setStatus(t, 'down');
      this.selectCarrier();
    }, this.keepalive.intervalMs * this.keepalive.multiplier);
    if (t.status !== 'up') {
      this.setStatus(t, 'up');
      this.selectCarrier();
    }
  }

  private quiet(t: Tracked): void {
    if (t.silence) this.clock.clearTimeout(t.silence);
    t.silence = null;
  }

  private setStatus(t: Tracked, status: LinkStatus): void {
    t.status = status;
    t.statusSince = this.clock.now();
    this.emit({ kind: status === 'up' ? 'tunnel-up' : 'tunnel-down', accessPoint: t.config.accessPoint });
  }

  private role(role: TunnelConfig['role']): Tracked | undefined {
    return [...this.tracked.values()].find((t) => t.config.role === role);
  }

  private selectCarrier(): void {
    const active = this.role('active');
    const standby = this.role('standby');
    if (!active) return;
    const onStandby = standby !== undefined && this.carrierId === standby.config.accessPoint;
    if (!onStandby) {
      if (active.status === 'down' && standby && standby.status !== 'down') this.moveTo(standby, 'failover');
      return;
    }
    if (standby.status === 'down' && active.status !== 'down') {
      this.moveTo(active, 'failover');
    } else if (active.status === 'up' && this.heldDown(active)) {
      this.moveTo(active, 'failback');
    } else if (active.status === 'up' && !this.holdDownTimer) {
      const remaining = (active.statusSince ?? 0) + this.keepalive.holdDownMs - this.clock.now();
      this.holdDownTimer = this.clock.setTimeout(() => {
        this.holdDownTimer = null;
        this.selectCarrier();
      }, remaining);
    } else if (active.status !== 'up') {
      this.cancel('holdDownTimer');
    }
  }

  private heldDown(active: Tracked): boolean {
    return active.statusSince !== null && this.clock.now() - active.statusSince >= this.keepalive.holdDownMs;
  }

  private moveTo(t: Tracked, kind: 'failover' | 'failback'): void {
    const from = this.carrierId ?? undefined;
    this.carrierId = t.config.accessPoint;
    this.cancel('holdDownTimer');
    this.emit({ kind, accessPoint: t.config.accessPoint, ...(from ? { from } : {}) });
  }

  private cancel(timer: 'roundTimer' | 'holdDownTimer'): void {
    const handle = this[timer];
    if (handle) this.clock.clearTimeout(handle);
    this[timer] = null;
  }

  private emit(event: Omit<TunnelEvent, 'at'>): void {
    const full = { ...event, at: this.clock.now() };
    for (const listener of this.listeners) listener(full);
  }
}
