import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { answeringOneByOne } from './fakeRunner.js';
import { LinuxDataPlane } from './linuxDataPlane.js';
import type { CommandResult, CommandRunner } from './runner.js';
import { desiredWanDhcp } from './wanDhcp.js';

const AP1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

/** A machine with ports wan1 (down) and lan1 that accepts every change and keeps none. */
function fakeMachine() {
  const calls: string[] = [];
  const runner: CommandRunner = async (cmd, args): Promise<CommandResult> => {
    const line = [cmd, ...args].join(' ');
    calls.push(line);
    if (line === 'ip -json address show')
      return {
        stdout: JSON.stringify([
          { ifname: 'wan1', flags: [], operstate: 'DOWN', addr_info: [] },
          { ifname: 'lan1', flags: ['UP'], operstate: 'UP', addr_info: [] },
        ]),
        stderr: '',
        code: 0,
      };
    if (line === 'cat /proc/sys/net/ipv4/ip_forward') return { stdout: '1\n', stderr: '', code: 0 };
    if (cmd === 'nft' && args[0] === 'list') return { stdout: '', stderr: 'No such file', code: 1 };
    if (cmd === 'ip' && args[0] === '-json') return { stdout: '[]', stderr: '', code: 0 };
    return { stdout: '', stderr: '', code: 0 };
  };
  return { runner: answeringOneByOne(runner), calls };
}

describe('LinuxDataPlane with a DHCP WAN port (planning against a fake machine)', () => {
  let dir = '';
  let machine: ReturnType<typeof fakeMachine>;
  let plane: LinuxDataPlane;
  const children: ChildProcess[] = [];
  const config = sampleConfig({
    tunnels: [{ accessPoint: 'ap-sh-1', address: '192.0.2.2:7000', publicKey: AP1, role: 'active' }],
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-wan-apply-'));
    machine = fakeMachine();
    plane = await LinuxDataPlane.open({ stateDir: dir, runner: machine.runner });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts udhcpc after bringing the WAN port up and before building the tunnel', async () => {
    await plane.apply(config);
    const at = (prefix: string) => machine.calls.findIndex((line) => line.startsWith(prefix));
    expect(at('ip link set dev wan1 up')).toBeGreaterThan(-1);
    expect(at('udhcpc -b -R -i wan1')).toBeGreaterThan(at('ip link set dev wan1 up'));
    expect(at('ip link add dev sag-wg0')).toBeGreaterThan(at('udhcpc -b -R -i wan1'));
  });

  it('touches no DHCP client before a config is applied', async () => {
    await plane.reset();
    expect(machine.calls.filter((line) => /udhcpc|^kill /.test(line))).toEqual([]);
    expect(plane.snapshot().ports).toEqual([]);
  });

  it("shows a DHCP WAN port's leased address in the snapshot", async () => {
    await plane.apply(config);
    expect(plane.snapshot().ports.find((p) => p.name === 'wan1')).not.toHaveProperty('address');
    await writeFile(
      join(dir, 'udhcpc-wan1.lease.json'),
      JSON.stringify({ port: 'wan1', address: '198.51.100.52/24', ip: '198.51.100.52', mask: 24 }),
    );
    expect(plane.snapshot().ports.find((p) => p.name === 'wan1')).toMatchObject({
      kind: 'wan',
      mode: 'dhcp',
      address: '198.51.100.52/24',
    });
  });

  it('leaves the DHCP client running on close', async () => {
    await plane.apply(config);
    const [client] = desiredWanDhcp(config, dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', ...client.args], {
      argv0: 'udhcpc',
      stdio: 'ignore',
    });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    await writeFile(client.pidFile, `${child.pid}\n`);
    machine.calls.length = 0;
    await plane.close();
    expect(machine.calls).toEqual([]);
    expect(child.exitCode).toBeNull();
  });
});
