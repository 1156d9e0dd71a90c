import { describe, expect, it } from 'vitest';
import { answeringOneByOne } from './fakeRunner.js';
import { commandsOfReadScript, readMany } from './machineRead.js';
import { type CommandRunner, hostRunner } from './runner.js';

describe('readMany', () => {
  it('runs the reads in one shell and gives each its own output, stderr and exit status', async () => {
    const calls: string[] = [];
    const runner: CommandRunner = (cmd, args, options) => {
      calls.push(cmd);
      return hostRunner(cmd, args, options);
    };
    const results = await readMany(runner, [
      { cmd: 'printf', args: ['[{"ifname":"lo"}]'] },
      { cmd: 'sh', args: ['-c', 'echo "no table" >&2; exit 1'] },
      { cmd: 'printf', args: ["it's\\n\\n"] },
      { cmd: 'no-such-program-sag', args: [] },
    ]);
    expect(calls).toEqual(['sh']);
    expect(results.slice(0, 3)).toEqual([
      { stdout: '[{"ifname":"lo"}]', stderr: '', code: 0 },
      { stdout: '', stderr: 'no table\n', code: 1 },
      { stdout: "it's\n\n", stderr: '', code: 0 },
    ]);
    expect(results[3].code).toBe(127);
  });

  it('fails every read, with the reason, when the shell does not run them', async () => {
    const broken: CommandRunner = async () => ({ stdout: '', stderr: 'spawn sh ENOENT', code: 127 });
    expect(await readMany(broken, [{ cmd: 'ip', args: ['-json', 'address', 'show'] }])).toEqual([
      { stdout: '', stderr: 'spawn sh ENOENT', code: 127 },
    ]);
  });

  it('lets a recording or fake runner see the reads one by one', async () => {
    const seen: string[] = [];
    const fake: CommandRunner = async (cmd, args) => {
      seen.push([cmd, ...args].join(' '));
      return {
        stdout: `out of ${cmd}`,
        stderr: cmd === 'nft' ? 'no table' : '',
        code: cmd === 'nft' ? 1 : 0,
      };
    };
    let script: string[] = [];
    const spy: CommandRunner = (cmd, args, options) => {
      script = [cmd, ...args];
      return answeringOneByOne(fake)(cmd, args, options);
    };
    const reads = [
      { cmd: 'nft', args: ['list', 'table', 'inet', 'opensag'] },
      { cmd: 'ip', args: ['-json', 'route', 'show', 'table', 'main', 'proto', '222'] },
    ];
    expect(await readMany(spy, reads)).toEqual([
      { stdout: 'out of nft', stderr: 'no table', code: 1 },
      { stdout: 'out of ip', stderr: '', code: 0 },
    ]);
    expect(seen).toEqual(['nft list table inet opensag', 'ip -json route show table main proto 222']);
    expect(commandsOfReadScript(script[0], script.slice(1))).toEqual(reads);
    expect(commandsOfReadScript('sh', ['-c', 'echo hi'])).toBeNull();
  });
});
