import { join } from 'node:path';
import { type DeviceConfig, validateDeviceConfig } from '../config.js';
import type { DataPlane } from '../dataplane/dataplane.js';
import { errorMessage } from '../errors.js';
import { removeStaleTempFiles } from '../state/atomicFile.js';
import { LAST_KNOWN_GOOD_FILE, loadLastKnownGood, saveLastKnownGood } from './lastKnownGood.js';

/**
 * What the agent acks for a pushed config. For a duplicate or stale push, revision and hash are the
 * ones actually applied, so the broker learns where the device really is.
 */
export interface ApplyOutcome {
  result: 'applied' | 'rejected' | 'rolled-back';
  revision: number;
  hash: string;
  duplicate?: boolean;
  error?: string;
}

export type BootOutcome =
  | { result: 'applied'; revision: number; hash: string }
  | { result: 'none'; reason: string }
  | { result: 'failed'; error: string };

export interface ApplierOptions {
  stateDir: string;
  dataPlane: DataPlane;
  /** Persists last-known-good; replaceable so tests can make the disk fail. */
  persist?: (stateDir: string, config: DeviceConfig) => Promise<void>;
  /**
   * The problems with a config (pushed or last-known-good), each naming its field; a branch
   * gateway's rules by default, `validateDeviceConfig(c, { role: 'edge' })` for an access point.
   */
  validate?: (config: unknown) => string[];
}

/**
 * The config pipeline: validate → apply atomically → verify → persist as last-known-good → ack.
 * Anything failing after the data plane was touched puts last-known-good back. Pushes are handled
 * one at a time, in arrival order.
 */
export class ConfigApplier {
  private readonly stateDir: string;
  private readonly dataPlane: DataPlane;
  private readonly persist: (stateDir: string, config: DeviceConfig) => Promise<void>;
  private readonly validate: (config: unknown) => string[];
  private current: DeviceConfig | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: ApplierOptions) {
    this.stateDir = options.stateDir;
    this.dataPlane = options.dataPlane;
    this.persist = options.persist ?? saveLastKnownGood;
    this.validate = options.validate ?? ((config) => validateDeviceConfig(config));
  }

  /** The applied config (also last-known-good on disk), or null before the first one. */
  get applied(): DeviceConfig | null {
    return this.current;
  }

  apply(config: unknown): Promise<ApplyOutcome> {
    return this.serialize(() => this.applyNow(config));
  }

  /** Applies last-known-good from disk; call at start, before any network. */
  bootFromLastKnownGood(): Promise<BootOutcome> {
    return this.serialize(() => this.bootNow());
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(input: unknown): Promise<ApplyOutcome> {
    const { revision, hash } = readIds(input);
    // A re-delivered or out-of-order push is answered with what is applied, whatever it contains.
    if (this.current && revision >= 1 && revision <= this.current.revision) {
      return { result: 'applied', revision: this.current.revision, hash: this.current.hash, duplicate: true };
    }
    const problems = this.validate(input);
    if (problems.length > 0) {
      return {
        result: 'rejected',
        revision,
        hash,
        error: `revision ${revision} rejected: ${problems.join('; ')}`,
      };
    }
    const config = input as DeviceConfig;
    try {
      await this.dataPlane.apply(config);
      const differences = await this.dataPlane.verify(config);
      if (differences.length > 0) throw new Error(`verify found ${differences.join('; ')}`);
      await this.persist(this.stateDir, config);
    } catch (err) {
      const rollback = await this.rollBack();
      return {
        result: 'rolled-back',
        revision,
        hash,
        error: `revision ${revision} failed: ${errorMessage(err)}; ${rollback}`,
      };
    }
    this.current = structuredClone(config);
    return { result: 'applied', revision, hash };
  }

  /** Puts the data plane back to last-known-good; returns a sentence for the ack's error. */
  private async rollBack(): Promise<string> {
    try {
      if (this.current) {
        await this.dataPlane.apply(this.current);
        return `rolled back to revision ${this.current.revision}`;
      }
      await this.dataPlane.reset();
      return 'no earlier config to roll back to; the data plane was cleared';
    } catch (err) {
      return `rollback also failed: ${errorMessage(err)}`;
    }
  }

  private async bootNow(): Promise<BootOutcome> {
    await removeStaleTempFiles(join(this.stateDir, LAST_KNOWN_GOOD_FILE));
    const loaded = await loadLastKnownGood(this.stateDir, this.validate);
    if (!loaded.config)
      return loaded.missing
        ? { result: 'none', reason: loaded.error }
        : { result: 'failed', error: loaded.error };
    const config = loaded.config;
    try {
      await this.dataPlane.apply(config);
      const differences = await this.dataPlane.verify(config);
      if (differences.length > 0) throw new Error(`verify found ${differences.join('; ')}`);
    } catch (err) {
      await this.dataPlane.reset().catch(() => undefined);
      return {
        result: 'failed',
        error: `last-known-good revision ${config.revision} failed to apply: ${errorMessage(err)}`,
      };
    }
    this.current = structuredClone(config);
    return { result: 'applied', revision: config.revision, hash: config.hash };
  }
}

/** Revision and hash as far as they can be read from an unvalidated config (protobuf defaults otherwise). */
function readIds(input: unknown): { revision: number; hash: string } {
  const record = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return {
    revision: Number.isSafeInteger(record.revision) ? (record.revision as number) : 0,
    hash: typeof record.hash === 'string' ? record.hash : '',
  };
}
