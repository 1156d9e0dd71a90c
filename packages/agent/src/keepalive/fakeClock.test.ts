import { describe, expect, it } from 'vitest';
import { FakeClock } from './fakeClock.js';

describe('FakeClock', () => {
  it('runs due timers in time order, then insertion order, including ones scheduled meanwhile', () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      log.push(`a@${clock.now()}`);
      clock.setTimeout(() => log.push(`c@${clock.now()}`), 5);
    }, 10);
    clock.setTimeout(() => log.push(`b2@${clock.now()}`), 20);
    const late = clock.setTimeout(() => log.push('never'), 30);
    clock.clearTimeout(late);
    clock.advance(25);
    expect(log).toEqual(['a@10', 'c@15', 'b@20', 'b2@20']);
    expect(clock.now()).toBe(25);
    clock.advance(100);
    expect(log).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });
});
