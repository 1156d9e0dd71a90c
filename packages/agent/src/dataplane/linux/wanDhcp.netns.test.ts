import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../config.js';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { LinuxDataPlane } from './linuxDataPlane.js';
import { commandsOfReadScript } from './machineRead.js';
import { connectNamespaces, createNamespace, deleteNamespace, namespaceLab } from './netns.js';
import { type CommandRunner, netnsRunner, runCommand } from './runner.js';
import type { WanLease } from './wanDhcp.js';

const { available: root, skipNote } = namespaceLab(['ip', 'nft', 'udhcpc', 'dnsmasq']);

const id = randomBytes(3).toString('hex');
const GW = `sagt-dhcp-gw-${id}`;
const ISP = `sagt-dhcp-isp-${id}`;
const POOL = /^198\.51\.100\.(5\d|60)\/24$/;
/** An address the box's own system put on wan0; the data plane must never touch it. */
const FOREIGN = '192.0.2.99/24';

describe('LinuxDataPlane keeping a WAN lease with udhcpc, in network namespaces', () => {
  let dir = '';
  let gw: CommandRunner;
  let isp: CommandRunner;
  let plane: LinuxDataPlane;
  const recorded: string[][] = [];

  const sh = async (runner: CommandRunner, cmd: string, ...args: string[]) =>
    (await runCommand(runner, { cmd, args }, 'lab')).stdout;
  const wan0Addresses = async () =>
    (
      JSON.parse(await sh(gw, 'ip', '-json', 'address', 'show', 'dev', 'wan0')) as {
        addr_info: { family: string; local: string; prefixlen: number }[];
      }[]
    )[0].addr_info
      .filter((a) => a.family === 'inet')
      .map((a) => `${a.local}/${a.prefixlen}`);
  const defaults = async () =>
    JSON.parse(await sh(gw, 'ip', '-json', 'route', 'show', 'default')) as {
      dev: string;
      gateway?: string;
      protocol?: string;
      metric?: number;
    }[];
  const pid = async () => Number((await readFile(join(dir, 'udhcpc-wan0.pid'), 'utf8')).trim());
  /** Whether the process runs (a zombie waiting to be reaped does not count). */
  const alive = async (p: number) => {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  };
  const lease = async () =>
    JSON.parse(await readFile(join(dir, 'udhcpc-wan0.lease.json'), 'utf8')) as WanLease;

  // wan1 (static, priority 1) is preferred; wan0 (DHCP, priority 2) gets the next metric.
  const dhcpConfig: DeviceConfig = sampleConfig({
    ports: {
      wan: [
        { name: 'wan0', mode: 'dhcp', priority: 2 },
        { name: 'wan1', mode: 'static', address: '203.0.113.2/24', gateway: '203.0.113.1', priority: 1 },
      ],
      lan: [{ name: 'lan1', address: '172.16.0.1/24' }],
    },
  });
  const staticConfig: DeviceConfig = {
    ...dhcpConfig,
    revision: 3,
    ports: {
      ...dhcpConfig.ports,
      wan: [
        { name: 'wan0', mode: 'static', address: '198.51.100.9/24', gateway: '198.51.100.1', priority: 2 },
      ],
    },
  };

  beforeAll(async () => {
    if (!root) return;
    dir = await mkdtemp(join(tmpdir(), 'sagt-dhcp-'));
    for (const ns of [GW, ISP]) await createNamespace(ns);
    const gwBase = netnsRunner(GW);
    gw = async (cmd, args, options) => {
      // A shell of reads is recorded as the reads it runs.
      const reads = commandsOfReadScript(cmd, args);
      recorded.push(...(reads ? reads.map((read) => [read.cmd, ...read.args]) : [[cmd, ...args]]));
      return gwBase(cmd, args, options);
    };
    isp = netnsRunner(ISP);
    await connectNamespaces({ namespace: GW, name: 'wan0' }, { namespace: ISP, name: 'isp0' });
    // wan1 and lan1 lead nowhere: each is one end of a veth pair kept inside the gateway.
    for (const port of ['wan1', 'lan1']) {
      await sh(gw, 'ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}-end`);
      await sh(gw, 'ip', 'link', 'set', `${port}-end`, 'up');
    }
    await sh(gw, 'ip', 'address', 'add', FOREIGN, 'dev', 'wan0');
    await sh(isp, 'ip', 'address', 'add', '198.51.100.1/24', 'dev', 'isp0');
    // The ISP's DHCP server; --no-ping skips its 3 s check that an address is unused.
    await sh(
      isp,
      'dnsmasq',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--port=0',
      '--interface=isp0',
      '--bind-interfaces',
      '--no-ping',
      '--dhcp-range=198.51.100.50,198.51.100.60,255.255.255.0,10m',
      '--dhcp-option=3,198.51.100.1',
      '--dhcp-option=6,198.51.100.53',
      `--dhcp-leasefile=${join(dir, 'isp.leases')}`,
      `--pid-file=${join(dir, 'isp-dnsmasq.pid')}`,
    );
    plane = await LinuxDataPlane.open({ stateDir: dir, runner: gw });
  });

  afterAll(async () => {
    if (!root) return;
    await plane?.close().catch(() => undefined);
    // Deleting a namespace kills what still runs in it: udhcpc and the ISP's dnsmasq.
    for (const ns of [GW, ISP]) await deleteNamespace(ns);
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!root)(
    `leases wan0's address and default route from the ISP's DHCP server${skipNote}`,
    async () => {
      await plane.apply(dhcpConfig);
      const leased = (await wan0Addresses()).find((a) => POOL.test(a));
      expect(leased).toBeDefined();
      expect(await wan0Addresses()).toContain(FOREIGN);
      expect(await defaults()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ dev: 'wan0', gateway: '198.51.100.1', protocol: 'dhcp', metric: 101 }),
          expect.objectContaining({ dev: 'wan1', gateway: '203.0.113.1', metric: 100 }),
        ]),
      );
      expect(await lease()).toMatchObject({
        port: 'wan0',
        address: leased,
        router: '198.51.100.1',
        dns: ['198.51.100.53'],
        leaseSeconds: 600,
        metric: 101,
      });
      expect(plane.snapshot().ports.find((p) => p.name === 'wan0')).toMatchObject({
        mode: 'dhcp',
        address: leased,
      });
      expect(await plane.verify(dhcpConfig)).toEqual([]);
    },
  );

  it.skipIf(!root)(`starts no second client when the same config is applied again${skipNote}`, async () => {
    const first = await pid();
    recorded.length = 0;
    await plane.apply({ ...dhcpConfig, revision: 2 });
    expect(await pid()).toBe(first);
    expect(await alive(first)).toBe(true);
    expect(recorded.filter(([cmd]) => cmd === 'udhcpc' || cmd === 'kill' || cmd === 'sh')).toEqual([]);
  });

  it.skipIf(!root)(`leaves udhcpc running on close, and a new data plane adopts it${skipNote}`, async () => {
    const first = await pid();
    const leased = (await lease()).address;
    await plane.close();
    expect(await alive(first)).toBe(true);
    plane = await LinuxDataPlane.open({ stateDir: dir, runner: gw });
    recorded.length = 0;
    await plane.apply({ ...dhcpConfig, revision: 2 });
    expect(await pid()).toBe(first);
    expect(recorded.filter(([cmd]) => cmd === 'udhcpc')).toEqual([]);
    expect(await wan0Addresses()).toContain(leased);
  });

  it.skipIf(!root)(`stops udhcpc and removes only its lease when wan0 turns static${skipNote}`, async () => {
    const first = await pid();
    const leased = (await lease()).address;
    await plane.apply(staticConfig);
    expect(await alive(first)).toBe(false);
    await expect(readFile(join(dir, 'udhcpc-wan0.pid'), 'utf8')).rejects.toThrow();
    await expect(readFile(join(dir, 'udhcpc-wan0.lease.json'), 'utf8')).rejects.toThrow();
    const addresses = await wan0Addresses();
    expect(addresses).not.toContain(leased);
    expect(addresses).toEqual(expect.arrayContaining([FOREIGN, '198.51.100.9/24']));
    expect((await defaults()).filter((r) => r.protocol === 'dhcp')).toEqual([]);
    expect(await defaults()).toEqual(
      expect.arrayContaining([expect.objectContaining({ dev: 'wan0', gateway: '198.51.100.1' })]),
    );
    expect(plane.snapshot().ports.find((p) => p.name === 'wan0')).toMatchObject({
      mode: 'static',
      address: '198.51.100.9/24',
    });
  });

  it.skipIf(!root)(`stops the client and removes its lease on reset${skipNote}`, async () => {
    await plane.apply({ ...dhcpConfig, revision: 4 });
    const second = await pid();
    const leased = (await lease()).address;
    expect(await wan0Addresses()).not.toContain('198.51.100.9/24');
    await plane.reset();
    expect(await alive(second)).toBe(false);
    expect(await wan0Addresses()).toEqual([FOREIGN]);
    expect(await wan0Addresses()).not.toContain(leased);
    expect((await defaults()).filter((r) => r.protocol === 'dhcp')).toEqual([]);
    await expect(readFile(join(dir, 'udhcpc-wan0.pid'), 'utf8')).rejects.toThrow();
  });
});
