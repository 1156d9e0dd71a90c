import { commandsOfReadScript } from './machineRead.js';
import type { CommandRunner } from './runner.js';

/**
 * Wraps a runner that knows single commands only (a test's fake machine) so it also answers what
 * the data plane sends to save process starts: the shell of `readMany`, command by command, the
 * way `sh` would, and `ip -batch -`, line by line, stopping at the first failure as ip does.
 */
export function answeringOneByOne(runner: CommandRunner): CommandRunner {
  return async (cmd, args, options) => {
    if (cmd === 'ip' && args.join(' ') === '-batch -') return ipBatch(runner, options?.input ?? '');
    const reads = commandsOfReadScript(cmd, args);
    if (!reads) return runner(cmd, args, options);
    const marker = /'(@@opensag-[0-9a-f]+) 0'/.exec(args[1])?.[1];
    let stdout = '';
    let stderr = '';
    for (const [i, read] of reads.entries()) {
      const result = await runner(read.cmd, read.args);
      stderr += `\n${marker} ${i}\n${result.stderr}`;
      stdout += `${result.stdout}\n${marker} ${i} ${result.code}\n`;
    }
    return { stdout, stderr, code: 0 };
  };
}

async function ipBatch(runner: CommandRunner, input: string) {
  let stdout = '';
  for (const [i, line] of input
    .split('\n')
    .filter((l) => l !== '')
    .entries()) {
    const result = await runner('ip', line.split(' '));
    stdout += result.stdout;
    if (result.code !== 0)
      return { stdout, stderr: `${result.stderr.trimEnd()}\nCommand failed -:${i + 1}`, code: 1 };
  }
  return { stdout, stderr: '', code: 0 };
}
