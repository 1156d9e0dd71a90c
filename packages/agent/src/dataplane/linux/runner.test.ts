import { describe, expect, it } from 'vitest';
import { type CommandRunner, formatCommand, hostRunner, netnsRunner, runCommand } from './runner.js';

describe('hostRunner', () => {
  it('reports exit status, output and input without throwing', async () => {
    expect(await hostRunner('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' })).toEqual({
      stdout: 'hello',
      stderr: 'oops\n',
      code: 3,
    });
    expect((await hostRunner('no-such-program-sag', [])).code).toBe(127);
  });
});

describe('netnsRunner', () => {
  const calls: string[][] = [];
  const base: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    return { stdout: '', stderr: '', code: 0 };
  };

  it('runs each program through ip netns exec, with a private WireGuard socket directory when asked', async () => {
    await netnsRunner('sagt-a', { base })('wg', ['show']);
    await netnsRunner('sagt-b', { base, wireguardRunDir: '/tmp/wg-b' })('wg', ['show']);
    expect(calls[0]).toEqual(['ip', 'netns', 'exec', 'sagt-a', 'wg', 'show']);
    expect(calls[1].slice(0, 6)).toEqual(['ip', 'netns', 'exec', 'sagt-b', 'env', 'SAG_WG_RUN=/tmp/wg-b']);
    expect(calls[1].slice(-2)).toEqual(['wg', 'show']);
  });
});

describe('runCommand', () => {
  const failing =
    (failFor: string): CommandRunner =>
    async (cmd) =>
      cmd === failFor
        ? { stdout: '', stderr: 'Error: Unknown device type.\n', code: 2 }
        : { stdout: 'ok', stderr: '', code: 0 };

  it('uses the fallback when the command fails', async () => {
    const command = {
      cmd: 'ip',
      args: ['link', 'add', 'sag-wg0'],
      fallback: { cmd: 'wireguard-go', args: ['sag-wg0'] },
    };
    expect((await runCommand(failing('ip'), command, 'tunnels')).stdout).toBe('ok');
  });

  it('throws naming the step, the command and its stderr', async () => {
    await expect(runCommand(failing('nft'), { cmd: 'nft', args: ['-f', '-'] }, 'ACL')).rejects.toThrow(
      'ACL: `nft -f -` exited 2: Error: Unknown device type.',
    );
    expect(formatCommand({ cmd: 'sh', args: ['-c', 'a b'] })).toBe("sh -c 'a b'");
  });
});
