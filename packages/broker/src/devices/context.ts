import type { Logger } from 'pino';
import type { ControlPlane } from '../controlPlane.js';
import type { Probes } from './probes.js';
import type { ConfigPush } from './push.js';
import type { DeviceSessions } from './sessions.js';

/** What every part of the device link works with. */
export interface DeviceLinkContext {
  controlPlane: ControlPlane;
  sessions: DeviceSessions;
  log: Logger;
  /** The broker's clock in Unix milliseconds; injectable for proof-time tests. */
  nowMs: () => number;
  /** Publishes with QoS 1 as the broker itself (internal: it bypasses device authorization). */
  publish(topic: string, payload: Buffer): Promise<void>;
}

/** What the per-message handlers get: the link plus config push and live probes. */
export interface HandlerContext extends DeviceLinkContext {
  push: ConfigPush;
  probes: Probes;
}
