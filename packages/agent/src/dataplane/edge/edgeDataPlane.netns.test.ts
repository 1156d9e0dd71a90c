import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNamespaces, createNamespace, deleteNamespace, namespaceLab } from '../linux/netns.js';
import { type CommandRunner, netnsRunner, runCommand } from '../linux/runner.js';
import { connectViaRunner } from '../linux/tcpConnect.js';
import type { EdgeConfig, EdgeSecurityGroupRule } from './edgeConfig.js';
import { EdgeDataPlane } from './edgeDataPlane.js';

const { available: root, skipNote } = namespaceLab(['ip', 'nft', 'wg', 'wireguard-go', 'ping']);

const id = randomBytes(3).toString('hex');
const EDGE = `sage-edge-${id}`;
const GW = `sage-gw-${id}`;
const VM = `sage-vm-${id}`;
const BRANCH_IP = '172.16.0.5';
const INSTANCE_IP = '10.1.0.10';
const SERVER = `require('node:net').createServer((s) => s.end()).listen(8080, '${INSTANCE_IP}')`;

/** Commands that only read; a second apply of the same config must issue nothing else. */
function isRead(cmd: string, args: readonly string[]): boolean {
  if (cmd === 'ip') return args[0] === '-json';
  if (cmd === 'nft') return args[0] === 'list';
  if (cmd === 'wg') return args[0] === 'show';
  return cmd === 'sysctl' && args[0] === '-n';
}

const allow = (id: string, protocol: 'tcp' | 'icmp', portRange: string): EdgeSecurityGroupRule => ({
  id,
  direction: 'ingress',
  policy: 'accept',
  priority: 10,
  protocol,
  portRange,
  cidr: '172.16.0.0/16',
});

describe('EdgeDataPlane in network namespaces', () => {
  let dir = '';
  let edge: CommandRunner;
  let gw: CommandRunner;
  let plane: EdgeDataPlane;
  let server: ChildProcess | undefined;
  const recorded: string[][] = [];
  let config: EdgeConfig;

  const sh = async (runner: CommandRunner, cmd: string, ...args: string[]) =>
    (await runCommand(runner, { cmd, args }, 'lab')).stdout;
  const withRules = (rules: EdgeSecurityGroupRule[]): EdgeConfig => ({
    ...config,
    securityGroups: [{ id: 'sg-web', rules }],
  });
  const branchPing = async () => {
    for (let attempt = 0; attempt < 3; attempt++)
      if ((await gw('ping', ['-n', '-c', '1', '-W', '1', '-I', BRANCH_IP, INSTANCE_IP])).code === 0)
        return true;
    return false;
  };
  const branchConnect = () =>
    connectViaRunner(gw)({ destination: INSTANCE_IP, port: 8080, source: BRANCH_IP, timeoutMs: 1500 });

  beforeAll(async () => {
    if (!root) return;
    dir = await mkdtemp(join(tmpdir(), 'sage-'));
    for (const ns of [EDGE, GW, VM]) await createNamespace(ns);
    const edgeBase = netnsRunner(EDGE, { wireguardRunDir: join(dir, 'wg-edge') });
    edge = async (cmd, args, options) => {
      recorded.push([cmd, ...args]);
      return edgeBase(cmd, args, options);
    };
    gw = netnsRunner(GW, { wireguardRunDir: join(dir, 'wg-gw') });
    const vm = netnsRunner(VM);
    await connectNamespaces({ namespace: EDGE, name: 'wan0' }, { namespace: GW, name: 'wan0' });
    await connectNamespaces({ namespace: EDGE, name: 'vpc0' }, { namespace: VM, name: 'eth0' });
    await sh(edge, 'ip', 'address', 'add', '192.0.2.1/24', 'dev', 'wan0');
    await sh(edge, 'ip', 'address', 'add', '10.1.0.1/24', 'dev', 'vpc0');
    await sh(vm, 'ip', 'address', 'add', `${INSTANCE_IP}/24`, 'dev', 'eth0');
    await sh(vm, 'ip', 'route', 'add', 'default', 'via', '10.1.0.1');
    server = spawn('ip', ['netns', 'exec', VM, process.execPath, '-e', SERVER], { stdio: 'ignore' });
    plane = await EdgeDataPlane.open({ stateDir: dir, runner: edge });
    // The branch gateway as the linux data plane builds it: one peer, the edge at probe port + 1.
    await sh(gw, 'ip', 'address', 'add', '192.0.2.2/24', 'dev', 'wan0');
    await sh(gw, 'ip', 'address', 'add', `${BRANCH_IP}/32`, 'dev', 'lo');
    const key = (await sh(gw, 'wg', 'genkey')).trim();
    const keyFile = join(dir, 'gw.key');
    await sh(gw, 'sh', '-c', `umask 077; echo ${key} > ${keyFile}`);
    const gwPublic = (await gw('wg', ['pubkey'], { input: key })).stdout.trim();
    await sh(gw, 'wireguard-go', 'sag-wg0');
    await sh(
      gw,
      'wg',
      'set',
      'sag-wg0',
      'private-key',
      keyFile,
      'peer',
      plane.tunnelPublicKey,
      'endpoint',
      '192.0.2.1:7001',
      'allowed-ips',
      '0.0.0.0/0',
      'persistent-keepalive',
      '1',
    );
    await sh(gw, 'ip', 'link', 'set', 'sag-wg0', 'up');
    await sh(gw, 'ip', 'route', 'add', '10.1.0.0/16', 'dev', 'sag-wg0', 'src', BRANCH_IP);
    config = {
      listenPort: 7001,
      peers: [{ gatewayId: 'sag-hz', publicKey: gwPublic, allowedIps: ['172.16.0.0/16'] }],
      vpcs: [{ vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/24'], interface: 'vpc0' }],
      instances: [{ instanceId: 'i-web', privateIp: INSTANCE_IP, securityGroupIds: ['sg-web'] }],
      securityGroups: [{ id: 'sg-web', rules: [] }],
    };
  });

  afterAll(async () => {
    if (!root) return;
    await plane?.close().catch(() => undefined);
    server?.kill();
    // Deleting a namespace kills every process left in it (wireguard-go on both ends) by pid first.
    for (const ns of [EDGE, GW, VM]) await deleteNamespace(ns);
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!root)(
    `terminates the branch tunnel and drops traffic no security group allows${skipNote}`,
    async () => {
      await plane.apply(config);
      expect(await plane.verify(config)).toEqual([]);
      expect(await sh(edge, 'wg', 'show', 'sag-edge0', 'dump')).toContain(`\t172.16.0.0/16\t`);
      expect(await sh(edge, 'ip', '-json', 'route', 'show', 'proto', '223')).toContain(
        '"dst":"172.16.0.0/16"',
      );
      // The gateway's keepalives must reach the edge, so a failure below is the security group's doing.
      let handshake = 0;
      for (let attempt = 0; attempt < 50 && handshake === 0; attempt++) {
        handshake = Number((await sh(edge, 'wg', 'show', 'sag-edge0', 'latest-handshakes')).split('\t')[1]);
        if (handshake === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(handshake).toBeGreaterThan(0);
      expect(await branchPing()).toBe(false);
      expect(await branchConnect()).toEqual({ connected: false, error: 'ETIMEDOUT' });
    },
  );

  it.skipIf(!root)(
    `lets tcp and icmp from the branch reach the instance once ingress rules allow them${skipNote}`,
    async () => {
      config = withRules([allow('sgr-web', 'tcp', '8080/8080'), allow('sgr-ping', 'icmp', '-1/-1')]);
      await plane.apply(config);
      expect(await branchPing()).toBe(true);
      expect(await branchConnect()).toMatchObject({ connected: true });
    },
  );

  it.skipIf(!root)(
    `issues no changing command when the same config is applied again${skipNote}`,
    async () => {
      recorded.length = 0;
      await plane.apply(config);
      expect(recorded.length).toBeGreaterThan(0);
      expect(recorded.filter(([cmd, ...args]) => !isRead(cmd, args))).toEqual([]);
    },
  );

  it.skipIf(!root)(`drops tcp when a drop rule of equal priority matches${skipNote}`, async () => {
    const deny: EdgeSecurityGroupRule = { ...allow('sgr-deny', 'tcp', '8000/8100'), policy: 'drop' };
    await plane.apply(withRules([...config.securityGroups[0].rules, deny]));
    expect(await branchConnect()).toEqual({ connected: false, error: 'ETIMEDOUT' });
    expect(await branchPing()).toBe(true);
  });

  it.skipIf(!root)(`removes the interface, routes and table on reset${skipNote}`, async () => {
    await plane.reset();
    expect((await edge('nft', ['list', 'table', 'inet', 'opensag_edge'])).code).not.toBe(0);
    expect(await sh(edge, 'ip', '-json', 'link', 'show')).not.toContain('sag-edge0');
    const routes = await sh(edge, 'ip', '-json', 'route', 'show', 'proto', '223');
    expect(routes.trim() === '' ? [] : JSON.parse(routes)).toEqual([]);
    expect(plane.snapshot()).toBeNull();
  });
});
