import { describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import {
  desiredTunnels,
  type InstalledTunnel,
  parseTunnelLinks,
  parseWgDump,
  planTunnels,
  splitWgDumpAll,
} from './wireguard.js';

const AP1 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const AP2 = 'YwNpYUTyFpnVVc4rBseJpg/T4YRw3VuLuPfiWAlY90Q=';
const KEY = {
  privateKeyFile: '/state/tunnel-key',
  publicKey: '2I2meYBJhIXb8nGZ+3psMb5oBRG9cSKryPPvlKUrF3A=',
};

const config = sampleConfig({
  tunnels: [
    { accessPoint: 'ap-sh-1', address: '192.0.2.2:7000', publicKey: AP1, role: 'active' },
    { accessPoint: 'ap-sh-2', address: 'ap2.example.net:7000', role: 'standby' },
  ],
});

describe('desiredTunnels', () => {
  it('builds sag-wg0 for the active access point at its probe port + 1 and skips keyless ones with why', () => {
    const { tunnels, skipped } = desiredTunnels(config);
    expect(tunnels).toEqual([
      {
        name: 'sag-wg0',
        accessPoint: 'ap-sh-1',
        role: 'active',
        peerPublicKey: AP1,
        endpoint: '192.0.2.2:7001',
        listenPort: 51820,
      },
    ]);
    expect(skipped).toEqual([
      {
        accessPoint: 'ap-sh-2',
        reason:
          'tunnel to ap-sh-2 not built: the access point has no WireGuard public key in the config (keepalive probes still go over the underlay)',
      },
    ]);
  });

  it('names the standby sag-wg1 and refuses a probe port leaving no WireGuard port', () => {
    const both = sampleConfig({
      tunnels: [
        { accessPoint: 'a', address: '192.0.2.2:65535', publicKey: AP1, role: 'active' },
        { accessPoint: 'b', address: '192.0.2.3:7000', publicKey: AP2, role: 'standby' },
      ],
    });
    const { tunnels, skipped } = desiredTunnels(both);
    expect(tunnels.map((t) => [t.name, t.endpoint, t.listenPort])).toEqual([
      ['sag-wg1', '192.0.2.3:7001', 51821],
    ]);
    expect(skipped[0].reason).toContain('192.0.2.2:65535 leaves no WireGuard port');
  });
});

describe('reading tunnels', () => {
  it('keeps only sag-wgN interfaces from ip -json link', () => {
    const json = JSON.stringify([
      { ifname: 'lo', flags: ['UP'] },
      { ifname: 'sag-wg0', flags: ['POINTOPOINT', 'UP'] },
      { ifname: 'sag-lab', flags: ['UP'] },
      { ifname: 'sag-wg1', flags: ['POINTOPOINT'] },
    ]);
    expect(parseTunnelLinks(json)).toEqual([
      { name: 'sag-wg0', up: true },
      { name: 'sag-wg1', up: false },
    ]);
  });

  it('parses wg show dump', () => {
    const dump = `priv\t${KEY.publicKey}\t51820\toff\n${AP1}\t(none)\t192.0.2.2:7001\t0.0.0.0/0\t0\t0\t148\t25\n`;
    expect(parseWgDump('sag-wg0', true, dump)).toEqual({
      name: 'sag-wg0',
      up: true,
      publicKey: KEY.publicKey,
      listenPort: 51820,
      peers: [{ publicKey: AP1, endpoint: '192.0.2.2:7001', allowedIps: ['0.0.0.0/0'], keepalive: 25 }],
    });
    expect(parseWgDump('sag-wg0', false, '(none)\t(none)\t0\toff\n')).toMatchObject({
      publicKey: null,
      peers: [],
    });
  });
});

describe('planTunnels', () => {
  const [tunnel] = desiredTunnels(config).tunnels;
  const good: InstalledTunnel = {
    name: 'sag-wg0',
    up: true,
    publicKey: KEY.publicKey,
    listenPort: 51820,
    peers: [{ publicKey: AP1, endpoint: '192.0.2.2:7001', allowedIps: ['0.0.0.0/0'], keepalive: 25 }],
  };

  it('creates a missing tunnel: kernel WireGuard, else wireguard-go; key and peer in one wg set; then up', () => {
    const changes = planTunnels([tunnel], [], KEY);
    expect(changes.map((c) => c.reason)).toEqual([
      'tunnel sag-wg0 (ap-sh-1) is missing',
      'tunnel sag-wg0 (ap-sh-1) is missing',
    ]);
    expect(changes.flatMap((c) => c.commands)).toEqual([
      {
        cmd: 'ip',
        args: ['link', 'add', 'dev', 'sag-wg0', 'type', 'wireguard'],
        fallback: { cmd: 'wireguard-go', args: ['sag-wg0'] },
      },
      {
        cmd: 'wg',
        args: [
          'set',
          'sag-wg0',
          'private-key',
          '/state/tunnel-key',
          'listen-port',
          '51820',
          'peer',
          AP1,
          'endpoint',
          '192.0.2.2:7001',
          'allowed-ips',
          '0.0.0.0/0',
          'persistent-keepalive',
          '25',
        ],
      },
      { cmd: 'ip', args: ['link', 'set', 'dev', 'sag-wg0', 'up'] },
    ]);
    expect(planTunnels([tunnel], [], KEY, 'userspace')[0].commands[0]).toEqual({
      cmd: 'wireguard-go',
      args: ['sag-wg0'],
    });
  });

  it('brings new tunnels up together, after building them all', () => {
    const standby = { ...tunnel, name: 'sag-wg1', accessPoint: 'ap-sh-2', role: 'standby' as const };
    const commands = planTunnels([tunnel, standby], [], KEY, 'userspace').flatMap((c) => c.commands);
    expect(commands.map((c) => `${c.cmd} ${c.args.slice(0, 2).join(' ')}`)).toEqual([
      'wireguard-go sag-wg0',
      'wg set sag-wg0',
      'wireguard-go sag-wg1',
      'wg set sag-wg1',
      'ip link set',
      'ip link set',
    ]);
  });

  it('changes nothing on a tunnel that matches', () => {
    expect(planTunnels([tunnel], [good], KEY)).toEqual([]);
  });

  it('replaces a changed peer and brings a downed tunnel up', () => {
    const changes = planTunnels([{ ...tunnel, peerPublicKey: AP2 }], [{ ...good, up: false }], KEY);
    expect(changes.map((c) => c.commands.map((cmd) => cmd.args.join(' ')))).toEqual([
      [`set sag-wg0 peer ${AP1} remove`],
      [`set sag-wg0 peer ${AP2} endpoint 192.0.2.2:7001 allowed-ips 0.0.0.0/0 persistent-keepalive 25`],
      ['link set dev sag-wg0 up'],
    ]);
  });

  it('re-keys a tunnel with another key and deletes owned tunnels no longer configured', () => {
    const changes = planTunnels(
      [tunnel],
      [
        { ...good, publicKey: AP2 },
        { ...good, name: 'sag-wg1' },
      ],
      KEY,
    );
    expect(changes.map((c) => c.reason)).toEqual([
      'tunnel sag-wg1 is installed but not configured',
      `tunnel sag-wg0 (ap-sh-1) has key ${AP2} port 51820, want ${KEY.publicKey} port 51820`,
    ]);
    expect(changes[0].commands).toEqual([{ cmd: 'ip', args: ['link', 'del', 'dev', 'sag-wg1'] }]);
  });
});

describe('splitWgDumpAll', () => {
  it('gives each interface of `wg show all dump` its own `wg show NAME dump` text', () => {
    const all = [
      'sag-wg0\tPRIV0\tPUB0\t51820\toff',
      `sag-wg0\t${AP1}\t(none)\t192.0.2.2:7001\t0.0.0.0/0\t0\t0\t0\t25`,
      'sag-wg1\tPRIV1\tPUB1\t51821\toff',
      '',
    ].join('\n');
    const dumps = splitWgDumpAll(all);
    expect([...dumps.keys()]).toEqual(['sag-wg0', 'sag-wg1']);
    expect(parseWgDump('sag-wg0', true, dumps.get('sag-wg0') ?? '')).toEqual({
      name: 'sag-wg0',
      up: true,
      publicKey: 'PUB0',
      listenPort: 51820,
      peers: [{ publicKey: AP1, endpoint: '192.0.2.2:7001', allowedIps: ['0.0.0.0/0'], keepalive: 25 }],
    });
    expect(parseWgDump('sag-wg1', true, dumps.get('sag-wg1') ?? '').peers).toEqual([]);
    expect(splitWgDumpAll('').size).toBe(0);
  });
});
