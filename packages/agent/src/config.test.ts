import { describe, expect, it } from 'vitest';
import { validateDeviceConfig } from './config.js';
import { sampleConfig } from './testing/sampleConfig.js';

function errorsFor(mutate: (config: ReturnType<typeof sampleConfig>) => void): string[] {
  const config = structuredClone(sampleConfig());
  mutate(config);
  return validateDeviceConfig(config);
}

describe('validateDeviceConfig', () => {
  it('accepts the reference branch config', () => {
    expect(validateDeviceConfig(sampleConfig())).toEqual([]);
  });

  it('refuses non-objects', () => {
    expect(validateDeviceConfig(null)).toEqual(['config: not an object']);
    expect(validateDeviceConfig([])).toEqual(['config: not an object']);
  });

  it('names the field for revision and hash', () => {
    expect(errorsFor((c) => (c.revision = 0))).toEqual(['revision: 0 is not a positive integer']);
    expect(errorsFor((c) => (c.hash = ''))).toEqual(['hash: missing']);
  });

  it('checks CIDR blocks: canonical, prefix limits for private blocks', () => {
    expect(errorsFor((c) => (c.privateCidrs = ['172.16.0.1/16']))).toEqual([
      'privateCidrs[0]: "172.16.0.1/16" is not a canonical IPv4 CIDR block',
    ]);
    expect(errorsFor((c) => (c.privateCidrs = ['10.0.0.0/7']))[0]).toMatch(/privateCidrs\[0\].*\/7/);
    expect(errorsFor((c) => (c.routes[1].destination = '10.2.0.0/33'))[0]).toMatch(
      /^routes\[1\]\.destination/,
    );
    expect(errorsFor((c) => (c.routes[1].destination = '10.1.0.0/16'))[0]).toMatch(/listed twice/);
  });

  it('checks ACL port ranges, CIDRs and enums', () => {
    const errors = errorsFor((c) => {
      c.aclRules[0].destPortRange = '22/21';
      c.aclRules[0].sourceCidr = 'any';
      (c.aclRules[0] as { protocol: string }).protocol = 'gre';
    });
    expect(errors).toEqual([
      'aclRules[0].protocol: "gre" is not tcp, udp, icmp or all',
      'aclRules[0].sourceCidr: "any" is not a canonical CIDR block',
      'aclRules[0].destPortRange: "22/21" is not a port range such as 22/22 or -1/-1',
    ]);
  });

  it('wants 1-2 tunnels with exactly one active and valid host:port addresses', () => {
    expect(errorsFor((c) => (c.tunnels = []))).toEqual([
      'tunnels: must list 1 or 2 access points (active, standby)',
    ]);
    expect(errorsFor((c) => (c.tunnels[1].role = 'active'))).toEqual([
      'tunnels: exactly one must be active (found 2)',
    ]);
    expect(errorsFor((c) => (c.tunnels[0].role = 'standby'))).toEqual([
      'tunnels: exactly one must be active (found 0)',
    ]);
    expect(errorsFor((c) => (c.tunnels[1].address = 'ap:70000'))[0]).toMatch(/^tunnels\[1\]\.address/);
    expect(errorsFor((c) => (c.tunnels[1].accessPoint = 'ap-sh-1'))[0]).toMatch(/listed twice/);
    expect(errorsFor((c) => c.tunnels.pop())).toEqual([]);
  });

  it('bounds keepalive settings', () => {
    expect(errorsFor((c) => (c.keepalive.multiplier = 0))).toEqual([
      'keepalive.multiplier: 0 is outside 1-20',
    ]);
    expect(errorsFor((c) => (c.keepalive.intervalMs = 1.5))[0]).toMatch(/^keepalive\.intervalMs/);
  });

  it('keeps a LAN DHCP pool inside its subnet and off the port address', () => {
    expect(errorsFor((c) => (c.ports.lan[0].dhcp!.end = '172.16.1.10'))).toEqual([
      'ports.lan[0].dhcp.end: "172.16.1.10" is not a host address in 172.16.0.0/24',
    ]);
    expect(errorsFor((c) => (c.ports.lan[0].dhcp!.start = '172.16.0.1'))[0]).toMatch(/own address/);
    expect(errorsFor((c) => (c.ports.lan[0].dhcp!.start = '172.16.0.250'))[0]).toMatch(/after its end/);
    expect(errorsFor((c) => (c.ports.lan[0].address = '172.16.0.0/24'))[0]).toMatch(/network or broadcast/);
  });

  it('checks port names, overlapping LAN subnets and static WAN addressing', () => {
    expect(errorsFor((c) => c.ports.lan.push({ name: 'lan2', address: '172.16.0.129/25' }))).toEqual([
      'ports.lan[1].address: subnet 172.16.0.128/25 overlaps 172.16.0.0/24 of ports.lan[0]',
    ]);
    expect(errorsFor((c) => (c.ports.lan[0].name = 'wan1'))).toEqual([
      'ports.lan[0].name: wan1 is used by two ports',
    ]);
    expect(
      errorsFor((c) => (c.ports.wan[0] = { name: 'wan1', mode: 'static', address: '203.0.113.2/30' })),
    ).toEqual(['ports.wan[0].gateway: "undefined" is not an IPv4 address (static mode needs one)']);
    expect(
      errorsFor(
        (c) =>
          (c.ports.wan[0] = { name: 'wan1', mode: 'static', address: '203.0.113.2', gateway: '203.0.113.1' }),
      ),
    ).toEqual([]);
  });
});
