import { isValidSerialNumber, PROOF_MAX_SKEW_MS, parseTopic, verifyProof } from '@opensag/proto';
import type { AuthenticateError, Client, ConnectPacket } from 'aedes';
import type { DeviceLinkContext } from './context.js';
import { DeviceKeys } from './deviceKeys.js';
import { DEFAULT_FAILURE_LIMIT, FailureLimit, type FailureLimitOptions } from './failureLimit.js';
import { NonceCache } from './nonceCache.js';
import {
  addressOf,
  DEFAULT_TAKEOVER_LIMIT,
  type DeviceSession,
  type TakeoverHoldDown,
  TakeoverLimit,
  type TakeoverLimitOptions,
} from './sessions.js';

export interface AuthenticateOptions {
  failureLimit?: FailureLimitOptions;
  /** Proofs are accepted within this many milliseconds of the broker's clock. */
  skewMs?: number;
  /** Parsed identity keys, shared with whoever forgets a device on unbinding. */
  keys?: DeviceKeys;
  /** How often one identity may take over its own open session (clones) before a hold-down. */
  takeoverLimit?: TakeoverLimitOptions;
}

/** The Last Will is only ever the OFFLINE presence message: a few bytes. */
const MAX_WILL_BYTES = 256;
const NOT_AUTHORIZED = 5;

type Refusal =
  | 'rate-limited'
  | 'client-id-mismatch'
  | 'invalid-serial'
  | 'unknown-serial'
  | 'missing-proof'
  | 'malformed'
  | 'stale'
  | 'bad-signature'
  | 'replayed'
  | 'replay-cache-full'
  | 'too-many-proofs'
  | 'bad-will'
  | 'takeover-held-down';

/** Refusals that say nothing about the address: they do not spend its failure budget. */
const NOT_FAILURES: ReadonlySet<Refusal> = new Set(['rate-limited', 'takeover-held-down']);

/**
 * CONNECT checks of SPEC §5: clientId = username = a bound serial number, password = a fresh
 * Ed25519 proof by the bound key, each nonce once, failures limited per source address.
 */
export function createConnectGuards(ctx: DeviceLinkContext, options: AuthenticateOptions = {}) {
  const skewMs = options.skewMs ?? PROOF_MAX_SKEW_MS;
  const nonces = new NonceCache(skewMs);
  const failures = new FailureLimit(options.failureLimit ?? DEFAULT_FAILURE_LIMIT);
  const willProblems = new WeakMap<Client, string>();
  const keys = options.keys ?? new DeviceKeys();
  const takeovers = new TakeoverLimit(options.takeoverLimit ?? DEFAULT_TAKEOVER_LIMIT);

  /** Sessions are always clean (the broker re-sends config on hello) and the Will is checked here. */
  function preConnect(
    client: Client,
    packet: ConnectPacket,
    callback: (error: Error | null, ok: boolean) => void,
  ) {
    packet.clean = true;
    const will = packet.will;
    if (will) {
      const topic = parseTopic(will.topic);
      const ownPresence =
        topic?.side === 'device' && topic.kind === 'presence' && topic.serialNumber === packet.clientId;
      const size = will.payload?.length ?? 0;
      if (!ownPresence) willProblems.set(client, 'the Will topic must be the device own presence topic');
      else if ((will.qos ?? 0) > 1) willProblems.set(client, 'the Will must use QoS 0 or 1');
      else if (size > MAX_WILL_BYTES) willProblems.set(client, `the Will payload is ${size} bytes`);
      will.retain = false;
    }
    callback(null, true);
  }

  function authenticate(
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ) {
    const address = addressOf(client);
    const now = ctx.nowMs();
    const refuse = (reason: Refusal, detail?: string, quiet = false) => {
      if (!NOT_FAILURES.has(reason)) failures.fail(address, now);
      const fields = { reason, detail, serialNumber: shown(username), clientId: shown(client.id), address };
      ctx.log[quiet ? 'debug' : 'warn'](fields, `device connection refused: ${reason}`);
      const error = new Error(`not authorized: ${reason}`) as AuthenticateError;
      error.returnCode = NOT_AUTHORIZED;
      done(error, false);
    };

    if (failures.blocked(address, now)) {
      // Refused before any work; logged once a minute per address with the count, not per attempt.
      const count = failures.refused(address, now);
      const detail =
        count === 1
          ? 'the address spent its failure budget'
          : `${count} attempts refused since the last such line`;
      return refuse('rate-limited', detail, count === null);
    }
    if (client.id !== username) return refuse('client-id-mismatch');
    if (!isValidSerialNumber(username)) return refuse('invalid-serial');
    // A gateway's device, or the edge agent running an access point of the broker's config file.
    const gateway = ctx.controlPlane.gatewayBySerial(username);
    const edge = gateway ? undefined : ctx.controlPlane.accessPointBySerial(username);
    const identityKey = gateway ? gateway.publicKey : edge?.identityKey;
    const deviceId = gateway?.id ?? edge?.id;
    if (!identityKey || !deviceId) return refuse('unknown-serial');
    if (!password || password.length === 0 || password.length > 512) return refuse('missing-proof');
    const willProblem = willProblems.get(client);
    if (willProblem) return refuse('bad-will', willProblem);
    let verdict: ReturnType<typeof verifyProof>;
    try {
      const key = keys.get(username, identityKey);
      verdict = verifyProof(username, password.toString('utf8'), key, now, skewMs);
    } catch {
      return refuse('malformed');
    }
    if (!verdict.ok) return refuse(verdict.reason);
    const seen = nonces.remember(username, verdict.nonce, verdict.millis, now);
    if (seen === 'replayed') return refuse('replayed');
    if (seen === 'full') return refuse('replay-cache-full');
    if (seen === 'serial-full') return refuse('too-many-proofs', 'more live proofs than a device ever needs');
    const open = ctx.sessions.live(username);
    if (open) {
      const takeover = takeovers.takeover(username, now);
      if (!takeover.allowed) {
        const until = new Date(takeover.untilMs).toISOString();
        return refuse('takeover-held-down', `the open session holds until ${until}`, takeover.refused > 1);
      }
      if (takeover.holdDown) holdDownStarted(ctx, open, address, takeover.holdDown);
    }
    ctx.sessions.admit(client, username, deviceId, address, new Date(now));
    ctx.log.debug({ serialNumber: username, gatewayId: deviceId, address }, 'device authenticated');
    done(null, true);
  }

  return { preConnect, authenticate };
}

/**
 * Two holders of one identity keep taking the session from each other: one event and one warning
 * for the whole hold-down, while the session that holds now stays.
 */
function holdDownStarted(
  ctx: DeviceLinkContext,
  open: DeviceSession,
  address: string,
  holdDown: TakeoverHoldDown,
): void {
  const details = {
    takeovers: holdDown.takeovers,
    windowSeconds: holdDown.windowMs / 1000,
    holdDownSeconds: holdDown.holdDownMs / 1000,
    until: new Date(holdDown.untilMs).toISOString(),
    previousAddress: open.address,
    address,
  };
  ctx.log.warn(
    { serialNumber: open.serialNumber, gatewayId: open.gatewayId, ...details },
    'device identity used by two connections taking over each other: further takeovers held down',
  );
  ctx.controlPlane.recordDeviceEvents(open.gatewayId, open.serialNumber, [
    { action: 'device.takeovers-held-down', details },
  ]);
}

/** A client-supplied identifier as safe to log: a string of bounded length, or null. */
function shown(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, 80) : null;
}
