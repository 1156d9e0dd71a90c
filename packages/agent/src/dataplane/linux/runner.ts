import { execFile } from 'node:child_process';
import { AgentError } from '../../errors.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit status; 127 when the program could not be started. */
  code: number;
}

/**
 * Runs one program and reports how it ended; never throws for a non-zero exit. Every change the
 * linux data plane makes goes through one of these, so planning is testable without root.
 */
export type CommandRunner = (
  cmd: string,
  args: readonly string[],
  options?: { input?: string },
) => Promise<CommandResult>;

export interface Command {
  cmd: string;
  args: string[];
  input?: string;
  /** Tried when `cmd` fails (e.g. wireguard-go where the kernel has no WireGuard). */
  fallback?: Command;
}

/** What must change for the machine to match a config, and the commands that change it. */
export interface Change {
  reason: string;
  commands: Command[];
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/** Runs programs on this machine, in the agent's own network namespace. */
export const hostRunner: CommandRunner = (cmd, args, options = {}) =>
  new Promise((resolve) => {
    const child = execFile(
      cmd,
      [...args],
      { maxBuffer: MAX_OUTPUT, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, code: 0 });
        const code = typeof error.code === 'number' ? error.code : 127;
        resolve({ stdout, stderr: stderr || error.message, code });
      },
    );
    // A program that exits without reading its input must not fail the agent with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });

export interface NetnsRunnerOptions {
  /**
   * A directory bind-mounted over /var/run/wireguard for each command, so wireguard-go and wg in
   * different namespaces of one host do not share control sockets (both hard-code that path).
   */
  wireguardRunDir?: string;
  /** The runner that starts `ip netns exec`; the host by default. */
  base?: CommandRunner;
}

/** Runs every program inside network namespace `namespace` (for tests and the namespace lab). */
export function netnsRunner(namespace: string, options: NetnsRunnerOptions = {}): CommandRunner {
  const base = options.base ?? hostRunner;
  const dir = options.wireguardRunDir;
  return (cmd, args, runOptions) => {
    if (!dir) return base('ip', ['netns', 'exec', namespace, cmd, ...args], runOptions);
    // `ip netns exec` already gives each command a private mount namespace; the bind stays inside it.
    const script =
      'mkdir -p /var/run/wireguard "$SAG_WG_RUN" && mount --bind "$SAG_WG_RUN" /var/run/wireguard && exec "$0" "$@"';
    return base(
      'ip',
      ['netns', 'exec', namespace, 'env', `SAG_WG_RUN=${dir}`, 'sh', '-c', script, cmd, ...args],
      runOptions,
    );
  };
}

export function formatCommand(command: Pick<Command, 'cmd' | 'args'>): string {
  return [command.cmd, ...command.args]
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word}'`))
    .join(' ');
}

/** Runs a command, falling back when it has one; throws naming the command and its stderr. */
export async function runCommand(
  runner: CommandRunner,
  command: Command,
  step: string,
  onFallback?: (command: Command) => void,
): Promise<CommandResult> {
  const result = await runner(
    command.cmd,
    command.args,
    command.input === undefined ? {} : { input: command.input },
  );
  if (result.code === 0) return result;
  if (command.fallback) {
    const fallback = await runner(command.fallback.cmd, command.fallback.args, {});
    if (fallback.code === 0) {
      onFallback?.(command);
      return fallback;
    }
    throw commandFailed(
      step,
      command.fallback,
      fallback,
      ` (after \`${formatCommand(command)}\` failed: ${firstLine(result.stderr)})`,
    );
  }
  throw commandFailed(step, command, result, '');
}

/** Runs a read-only command whose failure means the state cannot be read at all. */
export async function readCommand(
  runner: CommandRunner,
  step: string,
  cmd: string,
  args: string[],
): Promise<string> {
  return (await runCommand(runner, { cmd, args }, step)).stdout;
}

/** The output of a read-only command already run, or the error `readCommand` would throw. */
export function readOutput(step: string, command: Command, result: CommandResult): string {
  if (result.code !== 0) throw commandFailed(step, command, result, '');
  return result.stdout;
}

export interface ExecuteOptions {
  /**
   * Runs each stretch of two or more consecutive plain `ip` commands as one `ip -batch -`: one
   * process instead of one per command (a thousand routes are a thousand process starts otherwise).
   */
  batchIp?: boolean;
  /** Told when a command failed and its fallback worked (e.g. no kernel WireGuard). */
  onFallback?: (command: Command) => void;
}

interface Planned {
  change: Change;
  command: Command;
}

export async function executeChanges(
  runner: CommandRunner,
  changes: readonly Change[],
  step: string,
  options: ExecuteOptions = {},
): Promise<number> {
  const planned = changes.flatMap((change) => change.commands.map((command) => ({ change, command })));
  let index = 0;
  while (index < planned.length) {
    let end = index;
    while (options.batchIp && end < planned.length && isBatchable(planned[end].command)) end++;
    if (end - index >= 2) {
      await runIpBatch(runner, planned.slice(index, end), step);
      index = end;
      continue;
    }
    const { change, command } = planned[index];
    await runCommand(runner, command, `${step} (${change.reason})`, options.onFallback);
    index++;
  }
  return planned.length;
}

/** Words `ip -batch` reads back as they are: no quoting, comment or line-continuation characters. */
const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/** An `ip` command with no global option, input or fallback, so it can be one line of a batch. */
export function isBatchable(command: Command): boolean {
  return (
    command.cmd === 'ip' &&
    command.input === undefined &&
    command.fallback === undefined &&
    command.args.length > 0 &&
    !command.args[0].startsWith('-') &&
    command.args.every((word) => PLAIN_WORD.test(word))
  );
}

/** The `ip -batch -` input for `commands`, one line each. */
export function ipBatchInput(commands: readonly Command[]): string {
  return commands.map((command) => `${command.args.join(' ')}\n`).join('');
}

/**
 * Runs the commands as one `ip -batch -`. ip stops at the first failing line, as running them one
 * by one would, and names it (`Command failed -:N`); the error then reads as if that command had
 * run alone: step, the change's reason, the command and its stderr.
 */
async function runIpBatch(runner: CommandRunner, planned: readonly Planned[], step: string): Promise<void> {
  const result = await runner('ip', ['-batch', '-'], { input: ipBatchInput(planned.map((p) => p.command)) });
  if (result.code === 0) return;
  const failed = batchFailure(result.stderr, planned.length);
  if (failed) {
    const { change, command } = planned[failed.line - 1];
    throw commandFailed(`${step} (${change.reason})`, command, { ...result, stderr: failed.stderr }, '');
  }
  const first = planned[0];
  throw commandFailed(
    `${step} (${planned.length} changes, the first: ${first.change.reason})`,
    { cmd: 'ip', args: ['-batch', '-'] },
    result,
    '',
  );
}

/** Which line of a batch failed and what ip said about it, from `ip -batch` stderr. */
export function batchFailure(stderr: string, lines: number): { line: number; stderr: string } | null {
  const marks = [...stderr.matchAll(/Command failed -:(\d+)/g)];
  const last = marks.at(-1);
  if (!last) return null;
  const line = Number(last[1]);
  if (line < 1 || line > lines) return null;
  return { line, stderr: stderr.replace(/\s*Command failed -:\d+\s*/g, '\n').trim() };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

function commandFailed(step: string, command: Command, result: CommandResult, extra: string): AgentError {
  const stderr = result.stderr.trim();
  return new AgentError(
    'DATAPLANE_APPLY_FAILED',
    `${step}: \`${formatCommand(command)}\` exited ${result.code}${stderr ? `: ${stderr}` : ''}${extra}`,
    { command: formatCommand(command), code: result.code, stderr },
  );
}
