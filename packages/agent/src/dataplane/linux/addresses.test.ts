import { describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import {
  desiredAddresses,
  type InstalledLink,
  ownedAfter,
  planAddresses,
  wanDefaultRoutes,
  wanRouteMetrics,
} from './addresses.js';
import { planForwarding } from './forwarding.js';

const config = sampleConfig({
  ports: {
    wan: [
      { name: 'wan0', mode: 'static', address: '203.0.113.9', gateway: '203.0.113.1', priority: 2 },
      { name: 'wan1', mode: 'static', address: '198.51.100.2/24', gateway: '198.51.100.1', priority: 1 },
      { name: 'wan2', mode: 'dhcp', priority: 3 },
    ],
    lan: [{ name: 'lan1', address: '172.16.0.1/24' }],
  },
});

const link = (name: string, addresses: string[], up = true): InstalledLink => ({
  name,
  up,
  operstate: 'UP',
  addresses,
});

describe('desiredAddresses', () => {
  it('puts static WAN and LAN addresses on their ports and leaves DHCP WAN to its lease', () => {
    expect(desiredAddresses(config)).toEqual([
      { dev: 'wan0', address: '203.0.113.9/32' },
      { dev: 'wan1', address: '198.51.100.2/24' },
      { dev: 'lan1', address: '172.16.0.1/24' },
    ]);
    expect(desiredAddresses(null)).toEqual([]);
  });
});

describe('wanDefaultRoutes', () => {
  it('prefers the lower priority and reaches a prefixless gateway onlink', () => {
    expect(wanDefaultRoutes(config)).toEqual([
      { destination: '0.0.0.0/0', dev: 'wan1', via: '198.51.100.1', metric: 100 },
      { destination: '0.0.0.0/0', dev: 'wan0', via: '203.0.113.1', metric: 101, onlink: true },
    ]);
  });

  it('ranks DHCP and static WAN ports together so no two default routes share a metric', () => {
    expect(Object.fromEntries(wanRouteMetrics(config))).toEqual({ wan1: 100, wan0: 101, wan2: 102 });
    const first = sampleConfig({
      ports: {
        ...config.ports,
        wan: config.ports.wan.map((p) => (p.name === 'wan2' ? { ...p, priority: 0 } : p)),
      },
    });
    expect(Object.fromEntries(wanRouteMetrics(first))).toEqual({ wan2: 100, wan1: 101, wan0: 102 });
    expect(wanDefaultRoutes(first).map((r) => `${r.dev} ${r.metric}`)).toEqual(['wan1 101', 'wan0 102']);
  });
});

describe('planAddresses', () => {
  const desired = desiredAddresses(config);
  const ports = ['wan0', 'wan1', 'wan2', 'lan1'];

  it('changes nothing when ports are up with their addresses', () => {
    const links = [
      link('wan0', ['203.0.113.9/32']),
      link('wan1', ['198.51.100.2/24']),
      link('wan2', []),
      link('lan1', ['172.16.0.1/24']),
    ];
    expect(planAddresses(ports, desired, links, [])).toEqual([]);
  });

  it('brings ports up, adds missing addresses and names a port the device lacks', () => {
    const links = [
      link('wan0', ['203.0.113.9/32']),
      link('wan1', ['198.51.100.2/24'], false),
      link('lan1', []),
    ];
    const changes = planAddresses(ports, desired, links, []);
    expect(changes.map((c) => c.reason)).toEqual([
      'port wan1 is down',
      'port wan2 does not exist on this device',
      'port lan1 lacks address 172.16.0.1/24',
    ]);
    expect(changes[2].commands[0].args).toEqual(['address', 'replace', '172.16.0.1/24', 'dev', 'lan1']);
  });

  it('removes only the addresses it put there earlier', () => {
    const links = [link('lan1', ['172.16.0.1/24', '172.16.9.1/24', '192.168.1.1/24'])];
    const changes = planAddresses(['lan1'], [{ dev: 'lan1', address: '172.16.0.1/24' }], links, [
      { dev: 'lan1', address: '172.16.9.1/24' },
    ]);
    expect(changes.map((c) => c.commands[0].args)).toEqual([
      ['address', 'del', '172.16.9.1/24', 'dev', 'lan1'],
    ]);
  });

  it('owns afterwards what it wanted or owned that is present', () => {
    const links = [link('lan1', ['172.16.0.1/24', '192.168.1.1/24'])];
    expect(
      ownedAfter(
        [{ dev: 'lan1', address: '172.16.9.1/24' }],
        [{ dev: 'lan1', address: '172.16.0.1/24' }],
        links,
      ),
    ).toEqual([{ dev: 'lan1', address: '172.16.0.1/24' }]);
  });
});

describe('planForwarding', () => {
  it('turns IPv4 forwarding on only when it is off and a config is applied', () => {
    expect(planForwarding(true, '0\n')[0].commands[0]).toEqual({
      cmd: 'sysctl',
      args: ['-w', 'net.ipv4.ip_forward=1'],
    });
    expect(planForwarding(true, '1\n')).toEqual([]);
    expect(planForwarding(false, '0')).toEqual([]);
  });
});
