import { describe, expect, it } from 'vitest';
import { openFilesProblem, parseOpenFilesLimit } from './fdLimit.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the open-files check', () => {
  it('reads the soft and hard limits from /proc/self/limits', () => {
    expect(parseOpenFilesLimit(LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit(LIMITS.replace('1024 ', 'unlimited'))).toEqual({
      soft: Number.POSITIVE_INFINITY,
      hard: 524288,
    });
    expect(parseOpenFilesLimit('no such line')).toBeNull();
  });

  it('refuses N + 100 above the soft limit with one line naming the limit and the fix', () => {
    const problem = openFilesProblem(10_000, { soft: 1024, hard: 524288 });
    expect(problem).toBe(
      '10000 connections need about 10100 open files but the open-files limit (ulimit -n) is 1024; run `ulimit -n 65536` in this shell first',
    );
    expect(problem).not.toContain('\n');
  });

  it('names the hard limit when ulimit -n alone cannot reach the need', () => {
    expect(openFilesProblem(100_000, { soft: 1024, hard: 65536 })).toMatch(
      /limit \(ulimit -n\) is 1024; raise the hard limit \(65536\) to at least 100100 .*ulimit -n 100100/,
    );
  });

  it('lets through what fits, and an unknown limit', () => {
    expect(openFilesProblem(924, { soft: 1024, hard: 1024 })).toBeNull();
    expect(openFilesProblem(925, { soft: 1024, hard: 1024 })).toMatch(/need about 1025 open files/);
    expect(openFilesProblem(1_000_000, null)).toBeNull();
  });
});
