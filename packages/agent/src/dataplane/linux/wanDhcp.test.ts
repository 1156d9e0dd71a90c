import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import type { InstalledLink } from './addresses.js';
import {
  desiredWanDhcp,
  planWanDhcpStarts,
  planWanDhcpStops,
  type RunningWanDhcpClient,
  readWanDhcpClients,
  readWanLease,
} from './wanDhcp.js';

const config = sampleConfig({
  ports: {
    wan: [
      { name: 'wan0', mode: 'dhcp', priority: 2 },
      { name: 'wan1', mode: 'static', address: '203.0.113.2/24', gateway: '203.0.113.1', priority: 1 },
      { name: 'wan2', mode: 'pppoe', username: 'u', password: 'p' },
    ],
    lan: [{ name: 'lan1', address: '172.16.0.1/24' }],
  },
});
const [client] = desiredWanDhcp(config, '/state');
const link = (name: string): InstalledLink => ({ name, up: true, operstate: 'UP', addresses: [] });
const running = (overrides: Partial<RunningWanDhcpClient> = {}): RunningWanDhcpClient => ({
  port: 'wan0',
  pidFile: client.pidFile,
  scriptFile: client.scriptFile,
  leaseFile: client.leaseFile,
  pid: 4242,
  args: client.args,
  script: client.script,
  ...overrides,
});

describe('desiredWanDhcp', () => {
  it('runs one udhcpc per DHCP WAN port, files in the state directory, releasing on exit', () => {
    expect(desiredWanDhcp(config, '/state').map(({ script, ...rest }) => rest)).toEqual([
      {
        port: 'wan0',
        pidFile: '/state/udhcpc-wan0.pid',
        scriptFile: '/state/udhcpc-wan0.script',
        leaseFile: '/state/udhcpc-wan0.lease.json',
        args: ['-b', '-R', '-i', 'wan0', '-p', '/state/udhcpc-wan0.pid', '-s', '/state/udhcpc-wan0.script'],
      },
    ]);
  });

  it('gives the lease script the metric after the preferred static port, and runs nothing without a config', () => {
    expect(client.script).toContain('metric=101\n');
    expect(client.script).toContain("lease_file='/state/udhcpc-wan0.lease.json'\n");
    expect(desiredWanDhcp(null, '/state')).toEqual([]);
  });
});

describe('planWanDhcpStarts', () => {
  it('writes the lease script, then starts udhcpc, on a port that has no client', () => {
    const [change] = planWanDhcpStarts([client], [], [link('wan0')]);
    expect(change.reason).toBe('no DHCP client keeps a lease on WAN port wan0');
    expect(change.commands).toEqual([
      {
        cmd: 'sh',
        args: ['-c', 'umask 077 && cat > "$1" && chmod 700 "$1"', 'sh', '/state/udhcpc-wan0.script'],
        input: client.script,
      },
      { cmd: 'udhcpc', args: client.args },
    ]);
  });

  it('starts nothing when a client runs, or when the port does not exist', () => {
    expect(planWanDhcpStarts([client], [running()], [link('wan0')])).toEqual([]);
    expect(planWanDhcpStarts([client], [], [link('wan1')])).toEqual([]);
  });

  it('starts a client whose pid file names no live udhcpc', () => {
    expect(planWanDhcpStarts([client], [running({ pid: null })], [link('wan0')])).toHaveLength(1);
  });
});

describe('planWanDhcpStops', () => {
  it('leaves a client alone that runs with the same arguments and script', () => {
    expect(planWanDhcpStops([client], [running()])).toEqual([]);
  });

  it('stops the client of a port that is no longer DHCP, waiting for it to release', () => {
    const [change] = planWanDhcpStops([], [running()]);
    expect(change.reason).toBe(
      'udhcpc 4242 keeps a lease on port wan0, which is not a DHCP WAN port in the config',
    );
    expect(change.commands).toEqual([
      { cmd: 'kill', args: ['4242'] },
      { cmd: 'timeout', args: ['5', 'tail', '--pid=4242', '-f', '/dev/null'] },
      {
        cmd: 'rm',
        args: ['-f', '/state/udhcpc-wan0.pid', '/state/udhcpc-wan0.lease.json', '/state/udhcpc-wan0.script'],
      },
    ]);
  });

  it('restarts a client whose lease script changed (the port priority moved its metric)', () => {
    const [change] = planWanDhcpStops([client], [running({ script: client.script.replace('101', '100') })]);
    expect(change.reason).toBe(
      'udhcpc 4242 on WAN port wan0 runs with other settings (arguments or lease script)',
    );
    expect(change.commands[0]).toEqual({ cmd: 'kill', args: ['4242'] });
  });

  it("lets a dead client's script remove its lease, then clears its files", () => {
    const [change] = planWanDhcpStops([client], [running({ pid: null })]);
    expect(change.reason).toBe('a stale udhcpc pid file for WAN port wan0 is left');
    expect(change.commands.map((c) => [c.cmd, ...c.args].join(' '))).toEqual([
      'sh /state/udhcpc-wan0.script deconfig',
      'rm -f /state/udhcpc-wan0.pid /state/udhcpc-wan0.lease.json /state/udhcpc-wan0.script',
    ]);
    expect(
      planWanDhcpStops([], [running({ pid: null, script: null })])[0].commands.map((c) => c.cmd),
    ).toEqual(['rm']);
  });
});

describe('readWanDhcpClients and readWanLease', () => {
  let dir = '';
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-wandhcp-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    await rm(dir, { recursive: true, force: true });
  });

  /** A process that looks like a udhcpc in /proc/<pid>/cmdline. */
  const lookalike = async (argv0: string, args: string[]) => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', ...args], {
      argv0,
      stdio: 'ignore',
    });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child.pid as number;
  };

  it('adopts a live udhcpc of the port named by its pid file, and nothing else', async () => {
    const [wan0] = desiredWanDhcp(config, dir);
    const pid = await lookalike('udhcpc', wan0.args);
    await writeFile(wan0.pidFile, `${pid}\n`);
    await writeFile(wan0.scriptFile, wan0.script);
    const other = await lookalike('sleep', ['-i', 'wan9', '-p', join(dir, 'udhcpc-wan9.pid')]);
    await writeFile(join(dir, 'udhcpc-wan9.pid'), `${other}\n`);
    await writeFile(join(dir, 'dnsmasq-lan1.pid'), `${pid}\n`);
    const clients = await readWanDhcpClients(dir);
    expect(clients.map((c) => [c.port, c.pid])).toEqual([
      ['wan0', pid],
      ['wan9', null],
    ]);
    expect(clients[0].script).toBe(wan0.script);
    expect(clients[1].script).toBeNull();
    // The lookalike's own arguments come first, so it reads as a client with other settings.
    expect(planWanDhcpStops([wan0], clients).map((c) => c.reason)).toEqual([
      `udhcpc ${pid} on WAN port wan0 runs with other settings (arguments or lease script)`,
      'a stale udhcpc pid file for WAN port wan9 is left',
    ]);
  });

  it('reads the lease the script recorded, or null when there is none', async () => {
    expect(readWanLease(dir, 'wan0')).toBeNull();
    const lease = { port: 'wan0', address: '198.51.100.52/24', ip: '198.51.100.52', mask: 24 };
    await writeFile(join(dir, 'udhcpc-wan0.lease.json'), JSON.stringify(lease));
    expect(readWanLease(dir, 'wan0')).toMatchObject({ address: '198.51.100.52/24' });
  });
});
