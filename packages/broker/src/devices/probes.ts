import { randomUUID } from 'node:crypto';
import { cloudTopic, encodeCommand, type ProbeResult } from '@opensag/proto';
import { parseAddress } from '../domain/cidr.js';
import { label } from '../domain/operations/lookup.js';
import { SagError } from '../errors.js';
import type { DeviceLinkContext } from './context.js';

export interface ProbeRequest {
  destination: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  port?: number;
}

/** The API's answer: what the device itself saw. */
export interface ProbeAnswer {
  reachable: boolean;
  rttMs?: number;
  reason: string;
  seenBy: string;
}

interface Pending {
  serialNumber: string;
  resolve(answer: ProbeAnswer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface ProbeOptions {
  /** How long the API waits for the device's PROBE_RESULT. */
  timeoutMs?: number;
  /** Probes one device may have in flight at once. */
  maxPerDevice?: number;
}

/** Live probes (SPEC §3): a Command to the device, answered by its PROBE_RESULT event. */
export class Probes {
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutMs: number;
  private readonly maxPerDevice: number;

  constructor(
    private readonly ctx: DeviceLinkContext,
    options: ProbeOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxPerDevice = options.maxPerDevice ?? 16;
  }

  async probe(gatewayId: string, request: ProbeRequest): Promise<ProbeAnswer> {
    const gateway = this.ctx.controlPlane.get('gateway', gatewayId);
    parseAddress(request.destination, 'destination');
    const session = gateway.serialNumber ? this.ctx.sessions.bySerial(gateway.serialNumber) : undefined;
    if (!session) {
      throw new SagError(
        'DEVICE_OFFLINE',
        gateway.serialNumber
          ? `device ${gateway.serialNumber} of ${label('gateway', gateway)} is offline; a live probe needs it connected`
          : `${label('gateway', gateway)} has no device bound; bind one (PUT /v1/gateways/${gateway.id}/device) and connect it`,
        { gatewayId, serialNumber: gateway.serialNumber },
      );
    }
    const inFlight = [...this.pending.values()].filter((p) => p.serialNumber === session.serialNumber).length;
    if (inFlight >= this.maxPerDevice) {
      throw new SagError(
        'RATE_LIMITED',
        `device ${session.serialNumber} already has ${inFlight} probes in flight; retry when they finish`,
        {
          gatewayId,
        },
      );
    }
    const probeId = randomUUID();
    const payload = encodeCommand({
      commandId: probeId,
      probeRequest: {
        probeId,
        destination: request.destination,
        protocol: request.protocol,
        port: request.port ?? 0,
        timeoutMs: this.timeoutMs,
      },
    });
    const answer = new Promise<ProbeAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(probeId);
        reject(
          new SagError(
            'DEVICE_TIMEOUT',
            `device ${session.serialNumber} did not answer the probe of ${request.destination} within ${this.timeoutMs} ms`,
            { gatewayId, serialNumber: session.serialNumber, timeoutMs: this.timeoutMs },
          ),
        );
      }, this.timeoutMs);
      this.pending.set(probeId, { serialNumber: session.serialNumber, resolve, reject, timer });
    });
    this.ctx.publish(cloudTopic(session.serialNumber, 'cmd'), payload).catch((err) => {
      this.ctx.log.warn({ err, serialNumber: session.serialNumber, probeId }, 'could not send probe request');
    });
    return answer;
  }

  /** A PROBE_RESULT from `serialNumber`; only the device that was asked can answer. */
  resolve(serialNumber: string, result: ProbeResult): boolean {
    const pending = this.pending.get(result.probeId);
    if (!pending || pending.serialNumber !== serialNumber) return false;
    clearTimeout(pending.timer);
    this.pending.delete(result.probeId);
    pending.resolve({
      reachable: result.reachable,
      ...(result.reachable ? { rttMs: result.rttMs } : {}),
      reason: result.reason || (result.reachable ? 'reachable' : 'unreachable'),
      seenBy: serialNumber,
    });
    return true;
  }

  /** The device went offline: its probes cannot be answered any more. */
  abandon(serialNumber: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.serialNumber !== serialNumber) continue;
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(
        new SagError('DEVICE_OFFLINE', `device ${serialNumber} went offline before answering the probe`, {
          serialNumber,
        }),
      );
    }
  }

  close(): void {
    for (const pending of this.pending.values()) this.abandon(pending.serialNumber);
  }
}
