import { afterAll, describe, expect, it } from 'vitest';
import { killMidBurstRounds } from '../support/durabilityRounds.js';
import { removeTempDirs } from '../support/processes.js';

afterAll(() => removeTempDirs());

describe('the broker SIGKILLed during a burst of mutations, twenty rounds', () => {
  it('keeps every acknowledged mutation as answered, each unanswered one whole or absent, the file intact', async () => {
    const rounds = await killMidBurstRounds({
      rounds: 20,
      lanes: 8,
      seed: 2_0001,
      killAfterMs: { min: 150, spread: 1350 },
      onRound: (round) => console.info(JSON.stringify(round)),
    });
    const total = (field: 'acknowledged' | 'unanswered' | 'pendingWhole' | 'pendingAbsent') =>
      rounds.reduce((sum, round) => sum + round[field], 0);
    console.info(
      `durability: ${rounds.length} rounds, ${total('acknowledged')} acknowledged mutations verified, ` +
        `${total('unanswered')} unanswered (${total('pendingWhole')} found whole, ${total('pendingAbsent')} absent)`,
    );
    expect(rounds).toHaveLength(20);
    // The kills landed with requests in flight, and some of those had been committed unanswered.
    expect(total('unanswered')).toBeGreaterThanOrEqual(20);
    expect(total('pendingWhole')).toBeGreaterThan(0);
  }, 480_000);
});
