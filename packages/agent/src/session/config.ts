import {
  type AckInput,
  type AckResult,
  type DesiredConfig,
  decodeDesiredConfig,
  fitString,
  LIMITS,
} from '@opensag/proto';
import type { ApplyOutcome, ConfigApplier } from '../apply/applier.js';
import type { DeviceConfig } from '../config.js';
import { errorMessage } from '../errors.js';
import { deviceConfigFromDesired } from './desiredConfig.js';
import type { AgentLog } from './log.js';
import { peekRevision } from './wirePeek.js';

export interface ConfigPushContext {
  serialNumber: string;
  applier: ConfigApplier;
  log: AgentLog;
}

export interface ConfigPushResult {
  /** What to publish on the ack topic; null when the push could not even be tied to a revision. */
  ack: AckInput | null;
  /** The config that is now applied, when this push changed it. */
  applied: DeviceConfig | null;
}

const ACK_RESULT: Record<ApplyOutcome['result'], AckResult> = {
  applied: 'APPLIED',
  rejected: 'REJECTED',
  'rolled-back': 'ROLLED_BACK',
};

/**
 * One push on `sag/v1/c/{sn}/config`: decode → map → validate, apply, verify, persist (the
 * applier) → the ack to send. Never throws: whatever the broker sends, the device answers or logs.
 */
export async function handleConfigPush(
  payload: Uint8Array,
  context: ConfigPushContext,
): Promise<ConfigPushResult> {
  const result = await answerConfigPush(payload, context);
  const revision = result.ack?.revision ?? 0;
  if (revision > LIMITS.maxDeviceRevision) {
    // An ack naming a revision the protocol cannot carry would fail to encode; the log keeps it.
    context.log.warn('config refused without an ack: its revision is beyond what an ack can carry', {
      revision,
      error: result.ack?.error,
    });
    return { ...result, ack: null };
  }
  return result;
}

async function answerConfigPush(payload: Uint8Array, context: ConfigPushContext): Promise<ConfigPushResult> {
  const { applier, log } = context;
  let message: DesiredConfig;
  try {
    message = decodeDesiredConfig(payload);
  } catch (err) {
    return refuseUndecodable(payload, errorMessage(err), context);
  }
  const config = deviceConfigFromDesired(message);
  const current = applier.applied;
  if (
    config.serialNumber !== null &&
    config.serialNumber !== context.serialNumber &&
    !isStale(config, current)
  ) {
    const error = `revision ${config.revision} rejected: it is addressed to device ${config.serialNumber}, this device is ${context.serialNumber}`;
    log.warn('config refused', { revision: config.revision, error });
    return { ack: ack('REJECTED', config.revision, config.hash, error), applied: null };
  }
  let outcome: ApplyOutcome;
  try {
    outcome = await applier.apply(config);
  } catch (err) {
    // The applier answers every failure itself; this guards against a bug there killing the session.
    outcome = {
      result: 'rolled-back',
      revision: config.revision,
      hash: config.hash,
      error: errorMessage(err),
    };
  }
  logOutcome(log, outcome);
  const changed = outcome.result === 'applied' && !outcome.duplicate;
  return {
    ack: ack(ACK_RESULT[outcome.result], outcome.revision, outcome.hash, outcome.error ?? ''),
    applied: changed ? applier.applied : null,
  };
}

function refuseUndecodable(
  payload: Uint8Array,
  reason: string,
  context: ConfigPushContext,
): ConfigPushResult {
  const ids = peekRevision(payload);
  if (!ids) {
    context.log.warn('config push ignored: not a DesiredConfig and no revision can be read from it', {
      error: reason,
      bytes: payload.length,
    });
    return { ack: null, applied: null };
  }
  const current = context.applier.applied;
  if (current && ids.revision <= current.revision) {
    context.log.info('stale config push re-acked with the applied revision', { revision: ids.revision });
    return { ack: ack('APPLIED', current.revision, current.hash, ''), applied: null };
  }
  const error = `revision ${ids.revision} rejected: ${reason}`;
  context.log.warn('config refused', { revision: ids.revision, error });
  return { ack: ack('REJECTED', ids.revision, ids.hash, error), applied: null };
}

function isStale(config: DeviceConfig, current: DeviceConfig | null): boolean {
  return current !== null && config.revision <= current.revision;
}

/**
 * The ack as the protocol can carry it: an error past the string limit (a refusal quoting a long
 * field, or naming hundreds of bad entries) is cut, and an over-long hash read off an undecodable
 * push is left out, so the broker still hears the result. The log keeps the full text.
 */
function ack(result: AckResult, revision: number, hash: string, error: string): AckInput {
  return {
    revision,
    hash: hash.length <= LIMITS.maxStringLength ? hash : '',
    result,
    error: fitString(error, ` (${error.length} characters in all; see the device log)`),
  };
}

function logOutcome(log: AgentLog, outcome: ApplyOutcome): void {
  const fields = { revision: outcome.revision, hash: outcome.hash };
  if (outcome.result === 'applied' && outcome.duplicate) log.info('config already applied; re-acked', fields);
  else if (outcome.result === 'applied') log.info('config applied', fields);
  else log.warn(`config ${outcome.result}`, { ...fields, error: outcome.error });
}
