import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../linux/runner.js';
import { EdgeDataPlane } from './edgeDataPlane.js';
import { edgeConfig } from './sampleEdgeConfig.js';

/** A machine with nothing installed, where `ip link add` fails; it remembers the nft table it was given. */
function fakeMachine() {
  const log: string[] = [];
  let table: string | null = null;
  const runner: CommandRunner = async (cmd, args, options) => {
    const line = [cmd, ...args].join(' ');
    log.push(line);
    if (cmd === 'nft' && args[0] === 'list')
      return table ? { stdout: table, stderr: '', code: 0 } : { stdout: '', stderr: 'No such file', code: 1 };
    if (cmd === 'nft') {
      const input = options?.input ?? '';
      table = input.includes('table inet opensag_edge {')
        ? input.slice(input.indexOf('table inet opensag_edge {'))
        : null;
      return { stdout: '', stderr: '', code: 0 };
    }
    if (line.startsWith('ip -json route')) return { stdout: '[]', stderr: '', code: 0 };
    if (line.startsWith('ip -json link'))
      return { stdout: '', stderr: 'Device "sag-edge0" does not exist.', code: 1 };
    if (line === 'sysctl -n net.ipv4.ip_forward') return { stdout: '1\n', stderr: '', code: 0 };
    if (line.startsWith('ip link add')) return { stdout: '', stderr: 'Error: Unknown device type.', code: 2 };
    return { stdout: '', stderr: '', code: 0 };
  };
  return { runner, log, table: () => table };
}

describe('EdgeDataPlane', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-edge-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an invalid config before running any command', async () => {
    const machine = fakeMachine();
    const plane = await EdgeDataPlane.open({ stateDir: dir, runner: machine.runner });
    await expect(plane.apply(edgeConfig({ listenPort: 0 }))).rejects.toThrow(
      'edge config not applied: listenPort 0 is not a port from 1 to 65535',
    );
    expect(machine.log).toEqual([]);
  });

  it('names the failing command and converges back to the previous (empty) state', async () => {
    const machine = fakeMachine();
    const plane = await EdgeDataPlane.open({
      stateDir: dir,
      runner: machine.runner,
      implementation: 'kernel',
    });
    await expect(plane.apply(edgeConfig())).rejects.toThrow(
      /^edge: tunnels \(sag-edge0 is missing\): `ip link add dev sag-edge0 type wireguard` exited 2: Error: Unknown device type\.; rolled back to the empty state$/,
    );
    expect(machine.table()).toBeNull();
    expect(plane.snapshot()).toBeNull();
    expect(plane.tunnelPublicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('lists what differs without changing anything', async () => {
    const machine = fakeMachine();
    const plane = await EdgeDataPlane.open({ stateDir: dir, runner: machine.runner });
    expect(await plane.verify(edgeConfig())).toEqual([
      'nftables table inet opensag_edge is missing',
      'sag-edge0 is missing',
      'route 172.16.0.0/16 dev sag-edge0 is missing',
      'route 192.168.10.0/24 dev sag-edge0 is missing',
    ]);
    expect(machine.log.every((line) => /^(nft list|ip -json|sysctl -n)/.test(line))).toBe(true);
    await plane.close();
    await expect(plane.apply(edgeConfig())).rejects.toThrow('the edge data plane is closed');
  });
});
