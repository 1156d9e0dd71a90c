import { randomBytes } from 'node:crypto';
import type { Command, CommandResult, CommandRunner } from './runner.js';

/**
 * Several read-only commands run by one `sh`: starting a process from the agent costs far more
 * than the shell starting the same programs, so reading the whole machine costs one start. Each
 * command's output, stderr and exit status come back separately, as if it had run alone.
 */
export async function readMany(
  runner: CommandRunner,
  commands: readonly Command[],
): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  const marker = `@@opensag-${randomBytes(6).toString('hex')}`;
  const result = await runner('sh', ['-c', readScript(commands, marker)]);
  const parsed = parseReadOutput(result, commands.length, marker);
  if (parsed) return parsed;
  // The shell did not run them all (it could not start, or was killed): say so for each.
  const stderr = result.stderr.trim() || `sh exited ${result.code} before reading the machine`;
  return commands.map(() => ({ stdout: '', stderr, code: result.code === 0 ? 1 : result.code }));
}

const SHELL_WORD = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** One line per command: a stderr marker, the command, a stdout marker with its exit status. */
export function readScript(commands: readonly Command[], marker: string): string {
  return commands
    .map((command, i) => {
      const words = [command.cmd, ...command.args].map(SHELL_WORD).join(' ');
      // Each marker starts a line of its own even when the output before it did not end one.
      return `printf '\\n%s\\n' '${marker} ${i}' >&2; ${words} </dev/null; printf '\\n${marker} ${i} %d\\n' $?`;
    })
    .join('\n');
}

/** Splits the shell's output back into one result per command; null when some are missing. */
export function parseReadOutput(
  result: CommandResult,
  count: number,
  marker: string,
): CommandResult[] | null {
  const stdouts = new Map<number, { stdout: string; code: number }>();
  const outPattern = new RegExp(`\\n${marker} (\\d+) (\\d+)\\n`, 'g');
  let start = 0;
  for (const match of result.stdout.matchAll(outPattern)) {
    stdouts.set(Number(match[1]), {
      stdout: result.stdout.slice(start, match.index),
      code: Number(match[2]),
    });
    start = (match.index ?? 0) + match[0].length;
  }
  const stderrs = new Map<number, string>();
  const errPattern = new RegExp(`\\n${marker} (\\d+)\\n`, 'g');
  const errMarks = [...result.stderr.matchAll(errPattern)];
  errMarks.forEach((match, k) => {
    const from = (match.index ?? 0) + match[0].length;
    const to = k + 1 < errMarks.length ? errMarks[k + 1].index : result.stderr.length;
    stderrs.set(Number(match[1]), result.stderr.slice(from, to));
  });
  const out: CommandResult[] = [];
  for (let i = 0; i < count; i++) {
    const read = stdouts.get(i);
    if (!read) return null;
    out.push({ stdout: read.stdout, stderr: stderrs.get(i) ?? '', code: read.code });
  }
  return out;
}

/**
 * The commands a `readScript` shell runs, or null when `cmd`/`args` are not such a shell; lets a
 * recording or fake runner see the reads one by one.
 */
export function commandsOfReadScript(cmd: string, args: readonly string[]): Command[] | null {
  if (cmd !== 'sh' || args[0] !== '-c' || !/^printf '\\n%s\\n' '@@opensag-[0-9a-f]+ 0'/.test(args[1] ?? ''))
    return null;
  return args[1].split('\n').map((line) => {
    const words = [...(line.split('; ')[1] ?? '').matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) =>
      m[1].replace(/'\\''/g, "'"),
    );
    return { cmd: words[0], args: words.slice(1) };
  });
}
