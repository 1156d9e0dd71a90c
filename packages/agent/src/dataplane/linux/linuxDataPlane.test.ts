import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../config.js';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { answeringOneByOne } from './fakeRunner.js';
import { LinuxDataPlane } from './linuxDataPlane.js';
import { commandsOfReadScript } from './machineRead.js';
import type { CommandResult, CommandRunner } from './runner.js';
import type { TcpConnect } from './tcpConnect.js';

const AP1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const AP2 = 'YwNpYUTyFpnVVc4rBseJpg/T4YRw3VuLuPfiWAlY90Q=';

/** A machine that answers every read with an empty state and accepts every change but the ones told to fail. */
function fakeMachine() {
  const calls: { cmd: string; args: string[]; input?: string }[] = [];
  const failing: {
    match: (cmd: string, args: readonly string[], input?: string) => boolean;
    stderr: string;
  }[] = [];
  const answers: Record<string, string> = {
    'ip -json address show': JSON.stringify([
      { ifname: 'wan1', flags: ['UP'], operstate: 'UP', addr_info: [] },
      { ifname: 'lan1', flags: ['UP'], operstate: 'UP', addr_info: [] },
    ]),
    'cat /proc/sys/net/ipv4/ip_forward': '1\n',
  };
  const runner: CommandRunner = async (cmd, args, options = {}): Promise<CommandResult> => {
    calls.push({ cmd, args: [...args], ...(options.input ? { input: options.input } : {}) });
    const failure = failing.find((f) => f.match(cmd, args, options.input));
    if (failure) return { stdout: '', stderr: failure.stderr, code: 1 };
    const line = [cmd, ...args].join(' ');
    if (line in answers) return { stdout: answers[line], stderr: '', code: 0 };
    if (cmd === 'nft' && args[0] === 'list')
      return { stdout: '', stderr: 'Error: No such file or directory', code: 1 };
    if (cmd === 'ip' && args[0] === '-json') return { stdout: '[]', stderr: '', code: 0 };
    return { stdout: '', stderr: '', code: 0 };
  };
  return { runner: answeringOneByOne(runner), calls, failing, answers };
}

describe('LinuxDataPlane (planning against a fake machine)', () => {
  let dir = '';
  let machine: ReturnType<typeof fakeMachine>;
  let plane: LinuxDataPlane;
  const connects: Parameters<TcpConnect>[0][] = [];
  const tcpConnect: TcpConnect = async (request) => {
    connects.push(request);
    return { connected: false, error: 'ETIMEDOUT' };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-linux-'));
    machine = fakeMachine();
    plane = await LinuxDataPlane.open({ stateDir: dir, runner: machine.runner, tcpConnect });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const keyed = (overrides: Partial<DeviceConfig> = {}) =>
    sampleConfig({
      tunnels: [
        { accessPoint: 'ap-sh-1', address: '192.0.2.2:7000', publicKey: AP1, role: 'active' },
        { accessPoint: 'ap-sh-2', address: '192.0.2.3:7000', publicKey: AP2, role: 'standby' },
      ],
      ...overrides,
    });

  it('reports the tunnel public key it keeps in the state directory', async () => {
    expect(plane.tunnelPublicKey).toBe(
      (await LinuxDataPlane.open({ stateDir: dir, runner: machine.runner })).tunnelPublicKey,
    );
  });

  it('fails a first config at the nft batch, naming the command and its stderr, and stays empty', async () => {
    machine.failing.push({
      match: (cmd, args) => cmd === 'nft' && args[0] === '-f',
      stderr: 'Error: syntax error, unexpected junk',
    });
    await expect(plane.apply(sampleConfig())).rejects.toMatchObject({
      code: 'DATAPLANE_APPLY_FAILED',
      message:
        'revision 1: ACL (nftables table inet opensag is missing): `nft -f -` exited 1: Error: syntax error, unexpected junk; rolled back to the empty state',
    });
    expect(machine.calls.some((c) => c.args.includes('replace'))).toBe(false);
    expect(plane.snapshot().revision).toBeNull();
  });

  it('re-applies the previous config when a later step of a new one fails', async () => {
    await plane.apply(keyed());
    const second = keyed({
      revision: 2,
      routes: [
        { destination: '10.9.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-x', sourceKind: 'vpc' },
      ],
    });
    machine.failing.push({
      match: (cmd, args) => cmd === 'ip' && args.includes('10.9.0.0/16'),
      stderr: 'Error: Nexthop device is not up.',
    });
    machine.calls.length = 0;
    await expect(plane.apply(second)).rejects.toThrow(
      /^revision 2: routes \(route 10\.9\.0\.0\/16 dev sag-wg0 is missing\): `ip route replace 10\.9\.0\.0\/16 dev sag-wg0 proto 222 table main` exited 1: Error: Nexthop device is not up\.; rolled back to revision 1$/,
    );
    const replaced = machine.calls.filter((c) => c.args[1] === 'replace').map((c) => c.args[2]);
    // The failed attempt, then the rollback putting revision 1's routes back.
    expect(replaced).toContain('10.1.0.0/16');
    expect(plane.snapshot().revision).toBe(1);
  });

  it('verifies against the machine, and lists keyless tunnels as skipped rather than as differences', async () => {
    const config = sampleConfig();
    await plane.apply(config);
    const inspection = await plane.inspect(config);
    expect(inspection.skipped.map((s) => s.accessPoint)).toEqual(['ap-sh-1', 'ap-sh-2']);
    // The fake machine keeps nothing, so everything applied reads back as missing.
    expect(inspection.differences).toContain('nftables table inet opensag is missing');
    expect(inspection.differences).toContain('port lan1 lacks address 172.16.0.1/24');
    expect(await plane.verify({ ...config, revision: 9 })).toContain('revision: want 9, have 1');
  });

  it('reads the machine with one shell per pass, and again only what a change may have altered', async () => {
    const raw: string[][] = [];
    const counting: CommandRunner = (cmd, args, options) => {
      const reads = commandsOfReadScript(cmd, args);
      raw.push(reads ? ['reads:', ...reads.map((read) => read.cmd)] : [cmd]);
      return machine.runner(cmd, args, options);
    };
    const counted = await LinuxDataPlane.open({ stateDir: dir, runner: counting, tcpConnect });
    const config = keyed({
      ports: {
        wan: [{ name: 'wan1', mode: 'static', address: '192.0.2.1/24' }],
        lan: [{ name: 'lan1', address: '172.16.0.1/24' }],
      },
    });
    await counted.apply(config);
    // The fake keeps nothing, so every pass finds everything missing: read all, then again what
    // the later steps read after the ports changed. New tunnels leave the routes as read.
    expect(raw.filter((call) => call[0] === 'reads:')).toEqual([
      ['reads:', 'nft', 'ip', 'cat', 'wg', 'ip'],
      ['reads:', 'ip', 'wg', 'ip'],
    ]);
    raw.length = 0;
    await counted.verify(config);
    expect(raw).toEqual([['reads:', 'nft', 'ip', 'cat', 'wg', 'ip']]);
  });

  it('moves the cloud routes to the tunnel the monitor says carries traffic', async () => {
    await plane.apply(keyed());
    machine.calls.length = 0;
    plane.setTunnelStates([
      { accessPoint: 'ap-sh-1', status: 'down', carrying: false },
      { accessPoint: 'ap-sh-2', status: 'up', carrying: true, rttMs: 3 },
    ]);
    await plane.idle();
    const moved = machine.calls
      .filter((c) => c.args[1] === 'replace')
      .map((c) => `${c.args[2]} ${c.args[4]}`);
    expect(moved).toEqual(['10.1.0.0/16 sag-wg1', '10.2.0.0/16 sag-wg1', '172.17.0.0/16 sag-wg1']);
    const snapshot = plane.snapshot();
    expect(snapshot.tunnels.map((t) => [t.accessPoint, t.status, t.carrying])).toEqual([
      ['ap-sh-1', 'down', false],
      ['ap-sh-2', 'up', true],
    ]);
    expect(snapshot.routes.filter((r) => r.kind === 'tunnel').map((r) => r.interface)).toEqual([
      'sag-wg1',
      'sag-wg1',
      'sag-wg1',
    ]);
  });

  it('plans a route move from the config applied when its turn comes, not when it was asked', async () => {
    // This machine keeps its protocol-222 routes, so a move that deletes one shows.
    const routes = new Map<string, string>();
    const runner: CommandRunner = answeringOneByOne(async (cmd, args, options) => {
      if (cmd === 'ip' && args[0] === 'route' && args[1] === 'replace')
        routes.set(args[2], args[args.indexOf('dev') + 1]);
      if (cmd === 'ip' && args[0] === 'route' && args[1] === 'del') routes.delete(args[2]);
      if (cmd === 'ip' && args.join(' ') === '-json route show table main proto 222') {
        const list = [...routes].map(([dst, dev]) => ({ dst, dev }));
        return { stdout: JSON.stringify(list), stderr: '', code: 0 };
      }
      return machine.runner(cmd, args, options);
    });
    const stateful = await LinuxDataPlane.open({ stateDir: dir, runner, tcpConnect });
    const first = keyed();
    await stateful.apply(first);
    const second = keyed({
      revision: 2,
      hash: 'h2',
      routes: [
        ...first.routes,
        { destination: '10.9.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-gz', sourceKind: 'vpc' },
      ],
    });
    const applying = stateful.apply(second); // queued: the move below waits for it
    stateful.setTunnelStates([
      { accessPoint: 'ap-sh-1', status: 'down', carrying: false },
      { accessPoint: 'ap-sh-2', status: 'up', carrying: true, rttMs: 3 },
    ]);
    await applying;
    await stateful.idle();
    // A move planned from revision 1 would not know 10.9.0.0/16 and would take it away.
    expect(routes.get('10.9.0.0/16')).toBe('sag-wg1');
    expect(routes.get('10.1.0.0/16')).toBe('sag-wg1');
  });

  it('leaves tunnel routes out of the snapshot when no tunnel is built', async () => {
    await plane.apply(sampleConfig());
    expect(plane.snapshot().routes.map((r) => `${r.destination} ${r.kind}`)).toEqual([
      '172.16.0.0/16 private',
      '172.16.0.0/24 connected',
    ]);
  });

  it('probes with real ping from the LAN address and reads the round trip', async () => {
    await plane.apply(keyed());
    machine.answers['ip -json route get 10.1.0.10 from 172.16.0.1'] = JSON.stringify([{ dev: 'sag-wg0' }]);
    machine.answers['ping -n -c 1 -W 1 -I 172.16.0.1 10.1.0.10'] =
      '64 bytes from 10.1.0.10: icmp_seq=1 ttl=64 time=0.321 ms\n';
    expect(await plane.probe({ destination: '10.1.0.10', protocol: 'icmp' })).toEqual({
      reachable: true,
      rttMs: 0.321,
      reason: 'icmp to 10.1.0.10 from 172.16.0.1 answered via sag-wg0 (tunnel to ap-sh-1)',
    });
  });

  it('names the ACL rule when a TCP probe gets no answer', async () => {
    await plane.apply(keyed());
    machine.answers['ip -json route get 10.1.0.10 from 172.16.0.1'] = JSON.stringify([{ dev: 'sag-wg0' }]);
    const result = await plane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 22 });
    expect(connects.at(-1)).toEqual({
      destination: '10.1.0.10',
      port: 22,
      source: '172.16.0.1',
      timeoutMs: 2000,
    });
    expect(result).toEqual({
      reachable: false,
      reason:
        'tcp/22 to 10.1.0.10 from 172.16.0.1 failed via sag-wg0 (tunnel to ap-sh-1): no answer within 2000 ms; ACL rule aclr-1 (deny ssh) drops tcp/22 to 10.1.0.10',
    });
    expect(await plane.probe({ destination: 'nowhere', protocol: 'icmp' })).toMatchObject({
      reachable: false,
    });
  });

  it('refuses work once closed', async () => {
    await plane.close();
    await expect(plane.apply(sampleConfig())).rejects.toMatchObject({ code: 'DATAPLANE_CLOSED' });
  });
});
