import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { type ShellRunner, shellRunner } from './shellRunner.js';

describe('shellRunner', () => {
  let shell: ShellRunner;
  afterEach(() => shell.close());

  it('gives each program its own output, errors, exit status and input, as hostRunner does', async () => {
    shell = shellRunner();
    expect(await shell.run('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: "it's\nin" })).toEqual({
      stdout: "it's\nin",
      stderr: 'oops\n',
      code: 3,
    });
    expect(await shell.run('printf', ['%s|', 'a b', "c'd"])).toEqual({
      stdout: "a b|c'd|",
      stderr: '',
      code: 0,
    });
    const missing = await shell.run('no-such-program-sag', []);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('no-such-program-sag');
    // A program that reads its input gets none unless given some.
    expect(await shell.run('cat', [])).toEqual({ stdout: '', stderr: '', code: 0 });
  });

  it('runs programs one at a time, in the order asked, in one shell', async () => {
    shell = shellRunner();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((word) => shell.run('sh', ['-c', `echo ${word}; echo $PPID`])),
    );
    expect(results.map((r) => r.stdout.split('\n')[0])).toEqual(['a', 'b', 'c']);
    expect(new Set(results.map((r) => r.stdout.split('\n')[1])).size).toBe(1);
  });

  it('keeps a program left running out of later output, and starts a new shell when its shell died', async () => {
    shell = shellRunner();
    await shell.run('sh', ['-c', '(sleep 0.2; echo late) & echo now']);
    expect((await shell.run('echo', ['next'])).stdout).toBe('next\n');
    const pid = (await shell.run('sh', ['-c', 'echo $PPID'])).stdout.trim();
    execFileSync('kill', ['-KILL', pid]);
    const after = await shell.run('echo', ['again']);
    expect(after.stdout === 'again\n' || after.code === 127).toBe(true);
    expect((await shell.run('echo', ['fresh'])).stdout).toBe('fresh\n');
  });
});
