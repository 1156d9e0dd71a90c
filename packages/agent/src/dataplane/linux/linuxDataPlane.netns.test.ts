import { type ChildProcess, spawn } from 'node:child_process';
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
import { connectViaRunner } from './tcpConnect.js';

const { available: root, skipNote } = namespaceLab(['ip', 'nft', 'wg', 'wireguard-go', 'dnsmasq', 'ping']);

const id = randomBytes(3).toString('hex');
const GW = `sagt-gw-${id}`;
const AP = `sagt-ap-${id}`;
const CL = `sagt-cl-${id}`;
const SERVER =
  "require('node:net').createServer((s) => s.end()).listen(Number(process.argv[1]), '10.1.0.10')";

/** Commands that only read; a second apply of the same config must issue nothing else. */
function isRead(cmd: string, args: readonly string[]): boolean {
  if (cmd === 'ip') return args[0] === '-json';
  if (cmd === 'nft') return args[0] === 'list';
  if (cmd === 'wg') return args[0] === 'show';
  return (cmd === 'sysctl' && args[0] === '-n') || cmd === 'cat';
}

describe('LinuxDataPlane in network namespaces', () => {
  let dir = '';
  let gw: CommandRunner;
  let ap: CommandRunner;
  let client: CommandRunner;
  let plane: LinuxDataPlane;
  const recorded: string[][] = [];
  const servers: ChildProcess[] = [];
  const apKeys: { public: string }[] = [];
  let config: DeviceConfig;

  const sh = async (runner: CommandRunner, cmd: string, ...args: string[]) =>
    (await runCommand(runner, { cmd, args }, 'lab')).stdout;

  beforeAll(async () => {
    if (!root) return;
    dir = await mkdtemp(join(tmpdir(), 'sagt-'));
    for (const ns of [GW, AP, CL]) await createNamespace(ns);
    const gwBase = netnsRunner(GW, { wireguardRunDir: join(dir, 'wg-gw') });
    gw = async (cmd, args, options) => {
      // A shell of reads is recorded as the reads it runs.
      const reads = commandsOfReadScript(cmd, args);
      recorded.push(...(reads ? reads.map((read) => [read.cmd, ...read.args]) : [[cmd, ...args]]));
      return gwBase(cmd, args, options);
    };
    ap = netnsRunner(AP, { wireguardRunDir: join(dir, 'wg-ap') });
    client = netnsRunner(CL);
    await connectNamespaces({ namespace: GW, name: 'wan0' }, { namespace: AP, name: 'uplink' });
    await connectNamespaces({ namespace: GW, name: 'lan1' }, { namespace: CL, name: 'eth0' });
    await sh(ap, 'ip', 'address', 'add', '192.0.2.2/24', 'dev', 'uplink');
    await sh(ap, 'ip', 'address', 'add', '10.1.0.10/32', 'dev', 'lo');
    await sh(client, 'ip', 'address', 'add', '172.16.0.50/24', 'dev', 'eth0');
    await sh(client, 'ip', 'route', 'add', 'default', 'via', '172.16.0.1');
    plane = await LinuxDataPlane.open({ stateDir: dir, runner: gw, tcpConnect: connectViaRunner(gw) });
    // The access point: one WireGuard interface per tunnel, each with the gateway as its peer.
    for (const [index, port] of [7001, 7003].entries()) {
      const name = `apwg${index}`;
      const key = (await sh(ap, 'wg', 'genkey')).trim();
      const keyFile = join(dir, `${name}.key`);
      await sh(ap, 'sh', '-c', `umask 077; echo ${key} > ${keyFile}`);
      apKeys.push({ public: (await ap('wg', ['pubkey'], { input: key })).stdout.trim() });
      await sh(ap, 'wireguard-go', name);
      await sh(
        ap,
        'wg',
        'set',
        name,
        'private-key',
        keyFile,
        'listen-port',
        String(port),
        'peer',
        plane.tunnelPublicKey,
        'allowed-ips',
        '172.16.0.0/16',
      );
      await sh(ap, 'ip', 'link', 'set', name, 'up');
    }
    await sh(ap, 'ip', 'route', 'add', '172.16.0.0/16', 'dev', 'apwg0');
    for (const port of [22, 80])
      servers.push(
        spawn('ip', ['netns', 'exec', AP, process.execPath, '-e', SERVER, String(port)], { stdio: 'ignore' }),
      );
    config = sampleConfig({
      ports: {
        wan: [{ name: 'wan0', mode: 'static', address: '192.0.2.1/24', gateway: '192.0.2.2' }],
        lan: [
          {
            name: 'lan1',
            address: '172.16.0.1/24',
            dhcp: { start: '172.16.0.100', end: '172.16.0.200', leaseMinutes: 60 },
          },
        ],
      },
      tunnels: [
        { accessPoint: 'ap-sh-1', address: '192.0.2.2:7000', publicKey: apKeys[0].public, role: 'active' },
        { accessPoint: 'ap-sh-2', address: '192.0.2.2:7002', publicKey: apKeys[1].public, role: 'standby' },
      ],
      routes: [
        { destination: '10.1.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-sh', sourceKind: 'vpc' },
      ],
    });
  });

  afterAll(async () => {
    if (!root) return;
    await plane?.close().catch(() => undefined);
    for (const server of servers) server.kill();
    for (const ns of [GW, AP, CL]) await deleteNamespace(ns);
    await rm(dir, { recursive: true, force: true });
  });

  const routes = async () =>
    JSON.parse(await sh(gw, 'ip', '-json', 'route', 'show', 'table', 'main', 'proto', '222')) as {
      dst: string;
      dev: string;
      gateway?: string;
    }[];
  const clientPing = async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await client('ping', ['-n', '-c', '1', '-W', '1', '10.1.0.10'])).code === 0) return true;
    }
    return false;
  };

  it.skipIf(!root)(`builds the tunnels, addresses, routes and ACL a config asks for${skipNote}`, async () => {
    await plane.apply(config);
    expect(await routes()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dst: 'default', gateway: '192.0.2.2', dev: 'wan0' }),
        expect.objectContaining({ dst: '10.1.0.0/16', dev: 'sag-wg0' }),
      ]),
    );
    const dump = await sh(gw, 'wg', 'show', 'sag-wg0', 'dump');
    expect(dump).toContain(`${apKeys[0].public}\t(none)\t192.0.2.2:7001\t0.0.0.0/0`);
    expect(await sh(gw, 'wg', 'show', 'sag-wg1', 'dump')).toContain('192.0.2.2:7003');
    expect(await sh(gw, 'ip', '-json', 'address', 'show', 'dev', 'lan1')).toContain(
      '"local":"172.16.0.1","prefixlen":24',
    );
    const table = await sh(gw, 'nft', 'list', 'table', 'inet', 'opensag');
    expect(table).toContain(
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 tcp dport 22 drop comment "aclr-1 (deny ssh)"',
    );
    expect(await plane.verify(config)).toEqual([]);
  });

  it.skipIf(!root)(
    `carries pings from the LAN and from the gateway through the tunnel${skipNote}`,
    async () => {
      expect(await clientPing()).toBe(true);
      const probe = await plane.probe({ destination: '10.1.0.10', protocol: 'icmp' });
      expect(probe).toMatchObject({
        reachable: true,
        reason: expect.stringContaining('via sag-wg0 (tunnel to ap-sh-1)'),
      });
    },
  );

  it.skipIf(!root)(`drops tcp/22 out with the ACL while tcp/80 passes${skipNote}`, async () => {
    const connect = connectViaRunner(client);
    expect(await connect({ destination: '10.1.0.10', port: 80, timeoutMs: 2000 })).toMatchObject({
      connected: true,
    });
    expect(await connect({ destination: '10.1.0.10', port: 22, timeoutMs: 1000 })).toEqual({
      connected: false,
      error: 'ETIMEDOUT',
    });
    const probe = await plane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 22 });
    expect(probe.reachable).toBe(false);
    expect(probe.reason).toContain('ACL rule aclr-1 (deny ssh) drops tcp/22 to 10.1.0.10');
    expect(await plane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 80 })).toMatchObject({
      reachable: true,
    });
  });

  it.skipIf(!root)(
    `issues no changing command when the same config is applied again${skipNote}`,
    async () => {
      recorded.length = 0;
      await plane.apply(config);
      expect(recorded.length).toBeGreaterThan(0);
      expect(recorded.filter(([cmd, ...args]) => !isRead(cmd, args))).toEqual([]);
    },
  );

  it.skipIf(!root)(
    `serves the LAN pool with dnsmasq and restarts it only when the pool changes${skipNote}`,
    async () => {
      const pidOf = async () => Number((await readFile(join(dir, 'dnsmasq-lan1.pid'), 'utf8')).trim());
      const argsOf = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
      const first = await pidOf();
      expect(await argsOf(first)).toEqual(
        expect.arrayContaining([
          '--interface=lan1',
          '--bind-interfaces',
          '--port=0',
          '--dhcp-range=172.16.0.100,172.16.0.200,60m',
        ]),
      );
      const wider = {
        ...config,
        revision: 2,
        ports: {
          ...config.ports,
          lan: [
            {
              ...config.ports.lan[0],
              dhcp: { start: '172.16.0.100', end: '172.16.0.250', leaseMinutes: 30 },
            },
          ],
        },
      };
      await plane.apply(wider);
      const second = await pidOf();
      expect(second).not.toBe(first);
      expect(await argsOf(second)).toContain('--dhcp-range=172.16.0.100,172.16.0.250,30m');
      await plane.apply({ ...wider, revision: 3 });
      expect(await pidOf()).toBe(second);
      config = { ...wider, revision: 3 };
    },
  );

  it.skipIf(!root)(`rolls back to the previous config when a step fails${skipNote}`, async () => {
    const broken: DeviceConfig = {
      ...config,
      revision: 4,
      ports: { ...config.ports, lan: [...config.ports.lan, { name: 'lan9', address: '172.31.0.1/24' }] },
      aclRules: [
        ...config.aclRules,
        { ...config.aclRules[0], id: 'aclr-2', name: 'deny web', destPortRange: '80/80' },
      ],
    };
    await expect(plane.apply(broken)).rejects.toThrow(
      /revision 4: ports \(port lan9 does not exist on this device\): `ip link set dev lan9 up` exited 1: Cannot find device "lan9"; rolled back to revision 3/,
    );
    expect(await plane.verify(config)).toEqual([]);
    expect(await sh(gw, 'nft', 'list', 'table', 'inet', 'opensag')).not.toContain('aclr-2');
    expect(
      await connectViaRunner(client)({ destination: '10.1.0.10', port: 80, timeoutMs: 2000 }),
    ).toMatchObject({ connected: true });
  });

  it.skipIf(!root)(
    `names the route an ip batch failed on, and rolls back to the previous config${skipNote}`,
    async () => {
      const extra = ['10.5.0.0/16', '10.6.0.0/16', '10.7.0.0/16'].map((destination) => ({
        destination,
        nextHop: 'tunnel' as const,
        sourceResourceId: 'vpc-x',
        sourceKind: 'vpc' as const,
      }));
      const broken: DeviceConfig = {
        ...config,
        revision: 5,
        // A gateway outside wan0's subnet: the kernel refuses that default route.
        ports: { ...config.ports, wan: [{ ...config.ports.wan[0], gateway: '198.51.100.1' }] },
        routes: [...config.routes, ...extra],
      };
      await expect(plane.apply(broken)).rejects.toThrow(
        /revision 5: routes \(route 0\.0\.0\.0\/0 via 198\.51\.100\.1 dev wan0 metric 100 is installed as route 0\.0\.0\.0\/0 via 192\.0\.2\.2 dev wan0 metric 100\): `ip route replace 0\.0\.0\.0\/0 via 198\.51\.100\.1 dev wan0 proto 222 metric 100 table main` exited 1: Error: Nexthop has invalid gateway\.; rolled back to revision 3/,
      );
      expect(await plane.verify(config)).toEqual([]);
      expect((await routes()).map((r) => r.dst)).not.toContain('10.5.0.0/16');
    },
  );

  it.skipIf(!root)(
    `moves the routes to the standby tunnel when it carries the traffic${skipNote}`,
    async () => {
      await sh(ap, 'ip', 'route', 'replace', '172.16.0.0/16', 'dev', 'apwg1');
      plane.setTunnelStates([
        { accessPoint: 'ap-sh-1', status: 'down', carrying: false },
        { accessPoint: 'ap-sh-2', status: 'up', carrying: true },
      ]);
      await plane.idle();
      expect(await routes()).toEqual(
        expect.arrayContaining([expect.objectContaining({ dst: '10.1.0.0/16', dev: 'sag-wg1' })]),
      );
      expect(await clientPing()).toBe(true);
      expect(plane.snapshot().routes.find((r) => r.destination === '10.1.0.0/16')).toMatchObject({
        interface: 'sag-wg1',
      });
    },
  );

  it.skipIf(!root)(`removes everything it installed on reset, and nothing else${skipNote}`, async () => {
    await plane.reset();
    expect(await routes()).toEqual([]);
    expect((await gw('nft', ['list', 'table', 'inet', 'opensag'])).code).not.toBe(0);
    expect(await sh(gw, 'ip', '-json', 'link', 'show')).not.toContain('sag-wg');
    expect(await sh(gw, 'ip', '-json', 'address', 'show', 'dev', 'lan1')).not.toContain('172.16.0.1');
    expect(await sh(gw, 'ip', '-json', 'link', 'show', 'dev', 'wan0')).toContain('"ifname":"wan0"');
    await expect(readFile(join(dir, 'dnsmasq-lan1.pid'), 'utf8')).rejects.toThrow();
  });
});
