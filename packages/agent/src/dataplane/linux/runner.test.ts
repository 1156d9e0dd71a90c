import { describe, expect, it } from 'vitest';
import {
  batchFailure,
  type Change,
  type CommandResult,
  type CommandRunner,
  executeChanges,
  formatCommand,
  hostRunner,
  ipBatchInput,
  isBatchable,
  netnsRunner,
  runCommand,
} from './runner.js';

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

describe('executeChanges with batchIp', () => {
  const recording = (answer: (cmd: string, args: readonly string[], input?: string) => CommandResult) => {
    const calls: { line: string; input?: string }[] = [];
    const runner: CommandRunner = async (cmd, args, options = {}) => {
      calls.push({ line: [cmd, ...args].join(' '), ...(options.input ? { input: options.input } : {}) });
      return answer(cmd, args, options.input);
    };
    return { runner, calls };
  };
  const ok = () => ({ stdout: '', stderr: '', code: 0 });
  const route = (destination: string): Change => ({
    reason: `route ${destination} dev sag-wg0 is missing`,
    commands: [{ cmd: 'ip', args: ['route', 'replace', destination, 'dev', 'sag-wg0', 'proto', '222'] }],
  });

  it('runs consecutive plain ip commands as one ip -batch, the others one by one, in order', async () => {
    const { runner, calls } = recording(ok);
    const changes: Change[] = [
      { reason: 'acl', commands: [{ cmd: 'nft', args: ['-f', '-'], input: 'table' }] },
      route('10.1.0.0/16'),
      route('10.2.0.0/16'),
      { reason: 'read', commands: [{ cmd: 'ip', args: ['-json', 'link', 'show'] }] },
      route('10.3.0.0/16'),
      {
        reason: 'tunnel',
        commands: [{ cmd: 'ip', args: ['link', 'add', 'x'], fallback: { cmd: 'wireguard-go', args: ['x'] } }],
      },
    ];
    expect(await executeChanges(runner, changes, 'routes', { batchIp: true })).toBe(6);
    expect(calls).toEqual([
      { line: 'nft -f -', input: 'table' },
      {
        line: 'ip -batch -',
        input:
          'route replace 10.1.0.0/16 dev sag-wg0 proto 222\nroute replace 10.2.0.0/16 dev sag-wg0 proto 222\n',
      },
      { line: 'ip -json link show' },
      { line: 'ip route replace 10.3.0.0/16 dev sag-wg0 proto 222' },
      { line: 'ip link add x' },
    ]);
    expect(ipBatchInput([{ cmd: 'ip', args: ['link', 'set', 'dev', 'lan0', 'up'] }])).toBe(
      'link set dev lan0 up\n',
    );
  });

  it('keeps words ip -batch would read differently out of a batch', () => {
    expect(isBatchable({ cmd: 'ip', args: ['route', 'replace', '10.1.0.0/16'] })).toBe(true);
    expect(isBatchable({ cmd: 'ip', args: ['link', 'set', 'dev', 'a b', 'up'] })).toBe(false);
    expect(isBatchable({ cmd: 'ip', args: ['link', 'set', 'dev', '#x', 'up'] })).toBe(false);
    expect(isBatchable({ cmd: 'ip', args: ['-n', 'ns', 'link', 'show'] })).toBe(false);
    expect(isBatchable({ cmd: 'wg', args: ['show'] })).toBe(false);
  });

  it('names the failing line of a batch as if its command had run alone', async () => {
    const { runner } = recording(() => ({
      stdout: '',
      stderr: 'Error: Nexthop device is not up.\nCommand failed -:2',
      code: 1,
    }));
    await expect(
      executeChanges(runner, [route('10.1.0.0/16'), route('10.2.0.0/16'), route('10.3.0.0/16')], 'routes', {
        batchIp: true,
      }),
    ).rejects.toMatchObject({
      code: 'DATAPLANE_APPLY_FAILED',
      message:
        'routes (route 10.2.0.0/16 dev sag-wg0 is missing): `ip route replace 10.2.0.0/16 dev sag-wg0 proto 222` exited 1: Error: Nexthop device is not up.',
    });
  });

  it('names the batch and its first change when ip does not say which line failed', async () => {
    const { runner } = recording(() => ({ stdout: '', stderr: 'spawn ip ENOENT', code: 127 }));
    await expect(
      executeChanges(runner, [route('10.1.0.0/16'), route('10.2.0.0/16')], 'routes', { batchIp: true }),
    ).rejects.toThrow(
      'routes (2 changes, the first: route 10.1.0.0/16 dev sag-wg0 is missing): `ip -batch -` exited 127: spawn ip ENOENT',
    );
  });

  it('reads the failing line and its message from ip -batch stderr', () => {
    expect(batchFailure('RTNETLINK answers: No such process\nCommand failed -:7', 9)).toEqual({
      line: 7,
      stderr: 'RTNETLINK answers: No such process',
    });
    expect(batchFailure('Command failed -:12', 9)).toBeNull();
    expect(batchFailure('Segmentation fault', 9)).toBeNull();
  });

  it('tells when a fallback did the work', async () => {
    const { runner } = recording((cmd) =>
      cmd === 'ip' ? { stdout: '', stderr: 'Unknown device type', code: 2 } : ok(),
    );
    const used: string[] = [];
    await executeChanges(
      runner,
      [
        {
          reason: 'tunnel',
          commands: [{ cmd: 'ip', args: ['link', 'add'], fallback: { cmd: 'wireguard-go', args: ['x'] } }],
        },
      ],
      'tunnels',
      { onFallback: (command) => used.push(command.fallback?.cmd ?? '') },
    );
    expect(used).toEqual(['wireguard-go']);
  });
});
