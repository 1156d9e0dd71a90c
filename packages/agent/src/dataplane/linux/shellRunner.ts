import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandResult, CommandRunner } from './runner.js';

export interface ShellRunner {
  run: CommandRunner;
  /** Ends the shell and removes its files; a later `run` starts a new one. */
  close(): void;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

interface Shell {
  child: ChildProcess;
  buffered: string;
  waiting: ((code: number | null) => void) | null;
}

/**
 * Runs programs through one long-lived `sh` in the agent's namespace, one at a time. Starting a
 * process from the agent costs several times what the shell pays to start the same program (the
 * agent's whole address space is forked), and an apply runs a handful of programs. Each program's
 * input, output and errors go through files of its own, so nothing it leaves running (a daemon)
 * holds the shell's pipes or writes into a later program's output. Same results as `hostRunner`:
 * exit status, 127 when the program cannot be started.
 */
export function shellRunner(): ShellRunner {
  let dir: string | null = null;
  let shell: Shell | null = null;
  let count = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const nonce = `@@opensag-done-${randomBytes(6).toString('hex')}`;

  const start = (): Shell => {
    const child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const started: Shell = { child, buffered: '', waiting: null };
    child.stdin?.on('error', () => undefined);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      started.buffered += chunk;
      const match = new RegExp(`${nonce} (\\d+)\\n`).exec(started.buffered);
      if (!match || !started.waiting) return;
      started.buffered = started.buffered.slice((match.index ?? 0) + match[0].length);
      const done = started.waiting;
      started.waiting = null;
      done(Number(match[1]));
    });
    child.on('close', () => {
      if (shell === started) shell = null;
      started.waiting?.(null);
      started.waiting = null;
    });
    child.on('error', () => undefined);
    return started;
  };

  // An idle shell must not keep the agent's process alive; a running command must.
  const hold = (held: Shell, on: boolean) => {
    for (const handle of [held.child, held.child.stdin, held.child.stdout] as const) {
      const refable = handle as { ref?: () => void; unref?: () => void } | null;
      if (on) refable?.ref?.();
      else refable?.unref?.();
    }
  };

  const runOne = async (cmd: string, args: readonly string[], input?: string): Promise<CommandResult> => {
    dir ??= mkdtempSync(join(tmpdir(), 'sag-shell-'));
    const base = join(dir, String(++count));
    const files = { in: `${base}.in`, out: `${base}.out`, err: `${base}.err` };
    if (input !== undefined) await writeFile(files.in, input, { mode: 0o600 });
    const current = shell ?? start();
    shell = current;
    const words = [cmd, ...args].map(quote).join(' ');
    const stdin = input === undefined ? '/dev/null' : quote(files.in);
    hold(current, true);
    const code = await new Promise<number | null>((resolve) => {
      current.waiting = resolve;
      current.child.stdin?.write(
        `${words} <${stdin} >${quote(files.out)} 2>${quote(files.err)}; printf '%s %d\\n' '${nonce}' $?\n`,
      );
    });
    hold(current, false);
    const read = (path: string) => readFile(path, 'utf8').catch(() => '');
    const [stdout, stderr] = await Promise.all([read(files.out), read(files.err)]);
    await Promise.all(Object.values(files).map((path) => rm(path, { force: true })));
    if (code === null) return { stdout, stderr: stderr || `the shell running ${cmd} exited`, code: 127 };
    return { stdout, stderr, code };
  };

  return {
    run: (cmd, args, options = {}) => {
      const task = queue.then(() => runOne(cmd, args, options.input));
      queue = task.catch(() => undefined);
      return task;
    },
    close: () => {
      shell?.child.stdin?.end();
      shell = null;
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}
