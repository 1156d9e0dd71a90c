import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { seededRandom } from '../../packages/agent/src/testing/seededRandom.js';
import { BURST_BROKER_CONFIG, Ledger, runBurst } from './mutationBurst.js';
import { auditEventsAfter, checkConfigs, checkLedger, replayDifferences } from './mutationBurstCheck.js';
import { api, type BrokerProcess, startBroker, tempDir } from './processes.js';
import { sleep } from './waitFor.js';

/** What one SIGKILL round did and what the restarted broker showed. */
export interface KillRound {
  round: number;
  killAfterMs: number;
  acknowledged: number;
  unanswered: number;
  /** Unanswered mutations the restarted broker holds whole, and those it does not hold at all. */
  pendingWhole: number;
  pendingAbsent: number;
  /** Objects compared field by field, deleted ones confirmed gone, gateway configs checked. */
  objects: number;
  deleted: number;
  configs: number;
  /** Audit events the round added: exactly one per mutation that took effect. */
  auditEvents: number;
  restartMs: number;
}

export interface KillRoundsOptions {
  rounds: number;
  lanes: number;
  seed: number;
  /** The kill lands this long after the first answer of the round: min + random * spread. */
  killAfterMs: { min: number; spread: number };
  onRound?: (round: KillRound) => void;
}

/** `PRAGMA integrity_check` of the file as the kill left it, opened read-only (no recovery written). */
export function integrityOf(path: string): string {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * Rounds of: a burst of concurrent mutations, SIGKILL of the broker at a random moment, an
 * integrity check of the file, a restart on the same data directory, and a check that the
 * broker holds every acknowledged mutation as answered, each unanswered one whole or not at all,
 * and compiles every gateway's config from it. State accumulates across rounds.
 */
export async function killMidBurstRounds(options: KillRoundsOptions): Promise<KillRound[]> {
  const dataDir = tempDir('durability');
  const start = () =>
    startBroker({ dataDir, token: 'durability-rounds-token-0123456789', config: BURST_BROKER_CONFIG });
  const ledger = new Ledger();
  const rng = seededRandom(options.seed);
  const rounds: KillRound[] = [];
  let lastAuditId = 0;
  let broker: BrokerProcess = await start();
  try {
    for (let round = 0; round < options.rounds; round++) {
      let stopped = false;
      let firstAnswer!: () => void;
      const answered = new Promise<void>((resolve) => {
        firstAnswer = resolve;
      });
      const burst = runBurst(api(broker), ledger, {
        lanes: options.lanes,
        round,
        seed: options.seed + round,
        stopped: () => stopped,
        onAcknowledged: () => firstAnswer(),
      });
      const killAfterMs = Math.round(options.killAfterMs.min + rng() * options.killAfterMs.spread);
      // Timed from the first answer, so a slow start (a loaded machine) still leaves a burst to kill.
      await Promise.race([answered, burst]);
      await sleep(killAfterMs);
      await broker.kill();
      stopped = true;
      const stats = await burst;
      expect(stats.refused, `round ${round}: requests refused`).toEqual([]);
      expect(stats.acknowledged, `round ${round}: the kill came before any write`).toBeGreaterThan(0);
      const database = join(dataDir, 'opensag.db');
      expect(integrityOf(database), `round ${round}: integrity_check`).toBe('ok');
      expect(replayDifferences(database), `round ${round}: rows against the audit log`).toEqual([]);

      const restartedAt = Date.now();
      broker = await start();
      const restartMs = Date.now() - restartedAt;
      const call = api(broker);
      expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
      const check = await checkLedger(call, ledger);
      expect(check.problems, `round ${round} (seed ${options.seed})`).toEqual([]);
      const audit = await auditEventsAfter(call, lastAuditId);
      lastAuditId = audit.lastId;
      expect(audit.count, `round ${round}: audit events`).toBe(stats.acknowledged + check.pendingWhole);
      const gatewayIds = [...ledger.objects].filter(([, o]) => o.kind === 'gateway').map(([id]) => id);
      expect(await checkConfigs(call, ledger, gatewayIds), `round ${round}: compiled configs`).toEqual([]);

      const figures: KillRound = {
        round,
        killAfterMs,
        acknowledged: stats.acknowledged,
        unanswered: stats.unanswered,
        pendingWhole: check.pendingWhole,
        pendingAbsent: check.pendingAbsent,
        objects: check.objects,
        deleted: check.deleted,
        configs: gatewayIds.length,
        auditEvents: audit.count,
        restartMs,
      };
      rounds.push(figures);
      options.onRound?.(figures);
    }
  } finally {
    await broker.kill();
  }
  return rounds;
}
