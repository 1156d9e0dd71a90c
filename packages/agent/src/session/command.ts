import {
  type Activation,
  type Command,
  decodeCommand,
  fitString,
  type ProbeRequest,
  type ProbeResultInput,
} from '@opensag/proto';
import type { DataPlane, PathProbeResult } from '../dataplane/dataplane.js';
import { errorMessage } from '../errors.js';
import type { AgentLog } from './log.js';

export interface CommandHandlers {
  activation(activation: Activation): void;
  probeRequest(request: ProbeRequest): Promise<void>;
  reboot(): void;
  resync(): void;
}

/** How many command ids are remembered to ignore a redelivery. */
const REMEMBERED_COMMANDS = 256;

/**
 * Commands on `sag/v1/c/{sn}/cmd`: decoded defensively, each id run once, then handed to the
 * session's handler for its kind. Never throws.
 */
export class CommandDispatcher {
  private readonly seen = new Set<string>();

  constructor(
    private readonly handlers: CommandHandlers,
    private readonly log: AgentLog,
  ) {}

  async handle(payload: Uint8Array): Promise<void> {
    let command: Command;
    try {
      command = decodeCommand(payload);
    } catch (err) {
      this.log.warn('command ignored: not a valid Command', { error: errorMessage(err) });
      return;
    }
    if (this.seen.has(command.commandId)) {
      this.log.debug('command redelivered; already handled', { commandId: command.commandId });
      return;
    }
    this.remember(command.commandId);
    this.log.info('command received', { commandId: command.commandId, command: command.payload });
    try {
      await this.run(command);
    } catch (err) {
      this.log.error('command failed', { commandId: command.commandId, error: errorMessage(err) });
    }
  }

  private run(command: Command): Promise<void> | void {
    switch (command.payload) {
      case 'activation':
        return this.handlers.activation(command.activation);
      case 'probeRequest':
        return this.handlers.probeRequest(command.probeRequest);
      case 'reboot':
        return this.handlers.reboot();
      case 'resync':
        return this.handlers.resync();
    }
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_COMMANDS) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
  }
}

/** A probe that takes longer than this (when the request names no timeout) is unreachable. */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * The longest a device waits for one probe, whatever the request says: the broker gives up long
 * before, and a timer past 2^31 - 1 ms would fire at once instead.
 */
export const MAX_PROBE_TIMEOUT_MS = 60_000;

/** How long to wait for the probe `request` asks for. */
export function probeTimeoutMs(request: Pick<ProbeRequest, 'timeoutMs'>): number {
  if (!(request.timeoutMs > 0)) return DEFAULT_PROBE_TIMEOUT_MS;
  return Math.min(request.timeoutMs, MAX_PROBE_TIMEOUT_MS);
}

/** Runs a probe request on the data plane; the answer is what the device itself sees. */
export async function runProbe(
  dataPlane: DataPlane,
  request: ProbeRequest,
  seenBy: string,
): Promise<ProbeResultInput> {
  const timeoutMs = probeTimeoutMs(request);
  let result: PathProbeResult;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    result = await Promise.race([
      dataPlane.probe({
        destination: request.destination,
        protocol: request.protocol,
        ...(request.port > 0 ? { port: request.port } : {}),
      }),
      new Promise<PathProbeResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ reachable: false, reason: `no answer within ${timeoutMs} ms` }),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    result = { reachable: false, reason: `the data plane could not run the probe: ${errorMessage(err)}` };
  } finally {
    clearTimeout(timer);
  }
  return {
    probeId: request.probeId,
    reachable: result.reachable,
    rttMs: result.reachable && result.rttMs !== undefined ? Math.max(0, result.rttMs) : 0,
    // A reason quoting a hostile destination could outgrow what an event carries; the start says enough.
    reason: fitString(result.reason),
    seenBy,
  };
}
