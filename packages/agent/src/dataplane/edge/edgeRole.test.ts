import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleEdgeConfig } from '../../testing/sampleConfig.js';
import type { CommandRunner } from '../linux/runner.js';
import { EdgeRoleDataPlane, NO_EDGE_PROBES } from './edgeRole.js';

const IP_ADDR = JSON.stringify([
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'vpc0', addr_info: [{ family: 'inet', local: '10.1.0.1', prefixlen: 24 }] },
]);

/** A machine that accepts every change; it answers reads as an empty box with vpc0 into vpc-sh. */
function fakeMachine() {
  const log: string[] = [];
  const nftInput: string[] = [];
  const runner: CommandRunner = async (cmd, args, options) => {
    const line = [cmd, ...args].join(' ');
    log.push(line);
    if (line === 'ip -json address show') return { stdout: IP_ADDR, stderr: '', code: 0 };
    if (cmd === 'nft' && args[0] === 'list') return { stdout: '', stderr: 'No such file', code: 1 };
    if (cmd === 'nft') nftInput.push(options?.input ?? '');
    if (line.startsWith('ip -json route')) return { stdout: '[]', stderr: '', code: 0 };
    if (line.startsWith('ip -json link')) return { stdout: '', stderr: 'does not exist', code: 1 };
    if (line === 'sysctl -n net.ipv4.ip_forward') return { stdout: '0\n', stderr: '', code: 0 };
    return { stdout: '', stderr: '', code: 0 };
  };
  return { runner, log, nftInput };
}

describe('EdgeRoleDataPlane', () => {
  let dir = '';
  const warnings: Record<string, unknown>[] = [];
  const log = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (message: string, fields: Record<string, unknown> = {}) => warnings.push({ message, ...fields }),
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sag-edge-role-'));
    warnings.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the edge section with the VPC interfaces it found, leaving out (and logging) the VPC it cannot reach', async () => {
    const machine = fakeMachine();
    const plane = await EdgeRoleDataPlane.open({ stateDir: dir, runner: machine.runner, log });
    await plane.apply(sampleEdgeConfig({ revision: 7, hash: 'h7' }));
    expect(warnings).toEqual([
      {
        message: 'VPC left out: no local interface has an address in its blocks',
        revision: 7,
        vpc: 'vpc-bj (10.2.0.0/16; instances i-db)',
      },
    ]);
    const table = machine.nftInput.join('\n');
    expect(table).toContain('10.1.0.10');
    expect(table).not.toContain('10.2.0.20');
    expect(machine.log.find((line) => line.startsWith('wg set sag-edge0'))).toMatch(/listen-port 51821/);
    expect(plane.snapshot()).toEqual({
      revision: 7,
      hash: 'h7',
      ports: [],
      routes: [
        { destination: '10.1.0.0/16', kind: 'connected', interface: 'vpc0', sourceResourceId: 'vpc-sh' },
        { destination: '172.16.0.0/16', kind: 'tunnel', interface: 'sag-edge0', sourceResourceId: 'sag-1a9' },
      ],
      aclRules: [],
      tunnels: [],
    });
    expect(plane.edgeState()).toMatchObject({
      listenPort: 51821,
      vpcs: [{ vpcId: 'vpc-sh', interface: 'vpc0' }],
      unreachedVpcs: [{ vpcId: 'vpc-bj', instanceIds: ['i-db'] }],
      instances: [{ instanceId: 'i-web' }],
      securityGroups: [{ id: 'sg-web', rules: 1 }],
    });
  });

  it('refuses a config without an edge section before touching the machine', async () => {
    const machine = fakeMachine();
    const plane = await EdgeRoleDataPlane.open({ stateDir: dir, runner: machine.runner });
    await expect(plane.apply(sampleEdgeConfig({ revision: 3, edge: undefined }))).rejects.toThrow(
      'revision 3 has no edge section; an access point applies only access point configs',
    );
    expect(machine.log).toEqual([]);
    expect(await plane.verify(sampleEdgeConfig({ revision: 3, edge: undefined }))).toEqual([
      'edge: revision 3 has no edge section',
    ]);
  });

  it('runs no path probes, has a tunnel key, and shows nothing before the first config', async () => {
    const plane = await EdgeRoleDataPlane.open({ stateDir: dir, runner: fakeMachine().runner });
    expect(await plane.probe()).toEqual({ reachable: false, reason: NO_EDGE_PROBES });
    expect(NO_EDGE_PROBES).toBe('an access point runs no path probes');
    expect(plane.tunnelPublicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(plane.snapshot()).toMatchObject({ revision: null, routes: [] });
    expect(plane.edgeState()).toBeNull();
    const missing = await plane.verify(sampleEdgeConfig());
    expect(missing[0]).toBe('revision: want 1, have null');
    expect(missing).toContain('sag-edge0 is missing');
  });
});
