import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../config.js';
import { sampleEdgeConfig } from '../../testing/sampleConfig.js';
import { connectNamespaces, createNamespace, deleteNamespace, namespaceLab } from '../linux/netns.js';
import { type CommandRunner, netnsRunner, runCommand } from '../linux/runner.js';
import { publicKeyOf } from '../linux/tunnelKey.js';
import { EdgeRoleDataPlane } from './edgeRole.js';

const { available: root, skipNote } = namespaceLab(['ip', 'nft', 'wg', 'wireguard-go']);

const id = randomBytes(3).toString('hex');
const EDGE = `sagr-edge-${id}`;
const VM = `sagr-vm-${id}`;
const GATEWAY_KEY = publicKeyOf(randomBytes(32).toString('base64'));

/** Commands that only read; applying the same config again must issue nothing else. */
function isRead(cmd: string, args: readonly string[]): boolean {
  if (cmd === 'ip') return args[0] === '-json';
  if (cmd === 'nft') return args[0] === 'list';
  if (cmd === 'wg') return args[0] === 'show';
  return cmd === 'sysctl' && args[0] === '-n';
}

/** The Shanghai access point's config: one gateway, vpc-sh behind vpc0, vpc-bj not wired here. */
function accessPointConfig(revision: number): DeviceConfig {
  const config = sampleEdgeConfig({ revision, hash: `h${revision}` });
  const edge = config.edge as NonNullable<DeviceConfig['edge']>;
  edge.peers[0].publicKey = GATEWAY_KEY;
  return config;
}

describe('EdgeRoleDataPlane (the edge role) in a network namespace', () => {
  let dir = '';
  let edge: CommandRunner;
  let plane: EdgeRoleDataPlane;
  const recorded: string[][] = [];
  const warnings: string[] = [];
  const log = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (_message: string, fields: Record<string, unknown> = {}) => warnings.push(String(fields.vpc)),
  };

  const sh = async (cmd: string, ...args: string[]) => (await runCommand(edge, { cmd, args }, 'lab')).stdout;
  const open = () => EdgeRoleDataPlane.open({ stateDir: dir, runner: edge, log });

  beforeAll(async () => {
    if (!root) return;
    dir = await mkdtemp(join(tmpdir(), 'sagr-'));
    for (const ns of [EDGE, VM]) await createNamespace(ns);
    const base = netnsRunner(EDGE, { wireguardRunDir: join(dir, 'wg-edge') });
    edge = async (cmd, args, options) => {
      recorded.push([cmd, ...args]);
      return base(cmd, args, options);
    };
    await connectNamespaces({ namespace: EDGE, name: 'vpc0' }, { namespace: VM, name: 'eth0' });
    await sh('ip', 'address', 'add', '10.1.0.1/24', 'dev', 'vpc0');
    plane = await open();
  });

  afterAll(async () => {
    if (!root) return;
    await plane?.close().catch(() => undefined);
    for (const ns of [EDGE, VM]) await deleteNamespace(ns);
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!root)(
    `builds the tunnel, routes and security groups from the edge section, on the VPC's own link${skipNote}`,
    async () => {
      const config = accessPointConfig(1);
      await plane.apply(config);
      expect(await plane.verify(config)).toEqual([]);
      expect(warnings).toEqual(['vpc-bj (10.2.0.0/16; instances i-db)']);

      const dump = (await sh('wg', 'show', 'sag-edge0', 'dump')).trim().split('\n');
      expect(dump[0].split('\t')[1]).toBe(plane.tunnelPublicKey);
      expect(dump[0].split('\t')[2]).toBe('51821');
      expect(dump[1].split('\t')[0]).toBe(GATEWAY_KEY);
      expect(dump[1].split('\t')[3]).toBe('172.16.0.0/16');

      const routes = JSON.parse(await sh('ip', '-json', 'route', 'show', 'proto', '223'));
      expect(routes).toEqual([expect.objectContaining({ dst: '172.16.0.0/16', dev: 'sag-edge0' })]);

      const table = await sh('nft', 'list', 'table', 'inet', 'opensag_edge');
      expect(table).toContain('ip daddr 10.1.0.10 jump');
      expect(table).toContain('ip saddr 172.16.0.0/16 tcp dport 22 accept');
      expect(table).not.toContain('10.2.0.20');

      expect(plane.snapshot().routes).toEqual([
        { destination: '10.1.0.0/16', kind: 'connected', interface: 'vpc0', sourceResourceId: 'vpc-sh' },
        { destination: '172.16.0.0/16', kind: 'tunnel', interface: 'sag-edge0', sourceResourceId: 'sag-1a9' },
      ]);
    },
  );

  it.skipIf(!root)(
    `keeps everything across a restart, and the next agent adopts it without a changing command${skipNote}`,
    async () => {
      const key = plane.tunnelPublicKey;
      await plane.close();
      expect(await sh('wg', 'show', 'sag-edge0', 'listen-port')).toBe('51821\n');
      plane = await open();
      expect(plane.tunnelPublicKey).toBe(key);
      recorded.length = 0;
      await plane.apply(accessPointConfig(2));
      expect(recorded.length).toBeGreaterThan(0);
      expect(recorded.filter(([cmd, ...args]) => !isRead(cmd, args))).toEqual([]);
      expect(await plane.verify(accessPointConfig(2))).toEqual([]);
    },
  );

  it.skipIf(!root)(`brings in a VPC once a link reaches it${skipNote}`, async () => {
    await connectNamespaces({ namespace: EDGE, name: 'vpc1' }, { namespace: VM, name: 'eth1' });
    await sh('ip', 'address', 'add', '10.2.0.1/24', 'dev', 'vpc1');
    await plane.apply(accessPointConfig(3));
    expect(plane.edgeState()?.unreachedVpcs).toEqual([]);
    expect(plane.edgeState()?.vpcs.map((v) => `${v.vpcId} ${v.interface}`)).toEqual([
      'vpc-sh vpc0',
      'vpc-bj vpc1',
    ]);
    expect(await sh('nft', 'list', 'table', 'inet', 'opensag_edge')).toContain('ip daddr 10.2.0.20 jump');
  });

  it.skipIf(!root)(`removes the tunnel, routes and table on reset${skipNote}`, async () => {
    await plane.reset();
    expect((await edge('nft', ['list', 'table', 'inet', 'opensag_edge'])).code).not.toBe(0);
    expect(await sh('ip', '-json', 'link', 'show')).not.toContain('sag-edge0');
    expect(plane.snapshot().revision).toBeNull();
  });
});
