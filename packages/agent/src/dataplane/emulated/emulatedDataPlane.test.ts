import { describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { EmulatedDataPlane } from './emulatedDataPlane.js';

async function applied(config = sampleConfig()) {
  const dataPlane = new EmulatedDataPlane();
  await dataPlane.apply(config);
  return dataPlane;
}

describe('EmulatedDataPlane', () => {
  it('refuses a config naming a port the box does not have, keeping what was installed', async () => {
    const dataPlane = await applied();
    const config = sampleConfig();
    config.revision = 2;
    config.ports.lan.push({ name: 'lan9', address: '172.16.9.1/24' });
    await expect(dataPlane.apply(config)).rejects.toThrow(
      'port lan9 does not exist on this device (it has wan0, wan1, lan0, lan1, lan2, lan3)',
    );
    expect(dataPlane.snapshot().revision).toBe(1);
  });

  it('installs ports, routes, the ACL and tunnels, and verifies clean', async () => {
    const dataPlane = await applied();
    const state = dataPlane.snapshot();
    expect(state.revision).toBe(1);
    expect(state.ports).toEqual([
      { name: 'wan1', kind: 'wan', status: 'up', mode: 'dhcp' },
      {
        name: 'lan1',
        kind: 'lan',
        status: 'up',
        address: '172.16.0.1/24',
        dhcpPool: '172.16.0.100-172.16.0.200',
      },
    ]);
    expect(state.routes.map((r) => `${r.destination} ${r.kind}`)).toEqual([
      '10.1.0.0/16 tunnel',
      '10.2.0.0/16 tunnel',
      '172.16.0.0/16 private',
      '172.16.0.0/24 connected',
      '172.17.0.0/16 tunnel',
    ]);
    expect(state.aclRules.map((r) => r.id)).toEqual(['aclr-1']);
    expect(state.tunnels.map((t) => [t.accessPoint, t.status, t.carrying])).toEqual([
      ['ap-sh-1', 'unknown', true],
      ['ap-sh-2', 'unknown', false],
    ]);
    expect(await dataPlane.verify(sampleConfig())).toEqual([]);
  });

  it('verifies clean when a private block is exactly the LAN subnet (the LAN route is the one in force)', async () => {
    const config = sampleConfig({ privateCidrs: ['172.16.0.0/24'] });
    const dataPlane = await applied(config);
    expect(dataPlane.snapshot().routes.filter((r) => r.destination === '172.16.0.0/24')).toEqual([
      { destination: '172.16.0.0/24', kind: 'connected', interface: 'lan1' },
    ]);
    expect(await dataPlane.verify(config)).toEqual([]);
    dataPlane.loseRouteOnNextApply('172.16.0.0/24');
    await dataPlane.apply({ ...config, revision: 2 });
    expect(await dataPlane.verify({ ...config, revision: 2 })).toEqual([
      'route 172.16.0.0/24 (connected on lan1) is missing',
    ]);
  });

  it('resolves connected LAN subnets and private blocks locally, the rest by longest prefix', async () => {
    const dataPlane = await applied();
    expect(dataPlane.lookup('172.16.0.50')).toMatchObject({ kind: 'connected', interface: 'lan1' });
    expect(dataPlane.lookup('172.16.9.9')).toMatchObject({ kind: 'private' });
    expect(dataPlane.lookup('10.2.3.4')).toMatchObject({ kind: 'tunnel', sourceResourceId: 'vpc-bj' });
    expect(dataPlane.lookup('10.9.0.1')).toBeNull();
  });

  it('probes from a branch address when the box has no LAN port, so source-scoped rules apply', async () => {
    const config = sampleConfig();
    config.ports.lan = [];
    config.aclRules = config.aclRules.map((rule) => ({ ...rule, sourceCidr: '172.16.0.0/16' }));
    const dataPlane = await applied(config);
    expect(await dataPlane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 22 })).toEqual({
      reachable: false,
      reason: 'ACL rule aclr-1 (deny ssh) drops tcp/22 to 10.1.0.10',
    });
  });

  it('answers probes from the ACL, the routing table and the carrying tunnel', async () => {
    const dataPlane = await applied();
    expect(await dataPlane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 22 })).toEqual({
      reachable: false,
      reason: 'ACL rule aclr-1 (deny ssh) drops tcp/22 to 10.1.0.10',
    });
    expect(await dataPlane.probe({ destination: '10.9.0.1', protocol: 'icmp' })).toEqual({
      reachable: false,
      reason: 'no route to 10.9.0.1',
    });
    dataPlane.setTunnelStates([
      { accessPoint: 'ap-sh-1', status: 'up', carrying: true, rttMs: 12.5 },
      { accessPoint: 'ap-sh-2', status: 'up', carrying: false },
    ]);
    expect(await dataPlane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 443 })).toEqual({
      reachable: true,
      rttMs: 12.5,
      reason: 'tcp/443 to 10.1.0.10 goes via tunnel ap-sh-1 (active), route 10.1.0.0/16 from vpc-sh',
    });
    expect(await dataPlane.probe({ destination: '172.16.0.20', protocol: 'icmp' })).toMatchObject({
      reachable: true,
      reason: 'icmp to 172.16.0.20 stays on LAN port lan1 (172.16.0.0/24)',
    });
  });

  it('follows failover: the standby carries traffic, and nothing does when both are down', async () => {
    const dataPlane = await applied();
    dataPlane.setTunnelStates([
      { accessPoint: 'ap-sh-1', status: 'down', carrying: false },
      { accessPoint: 'ap-sh-2', status: 'up', carrying: true, rttMs: 30 },
    ]);
    expect((await dataPlane.probe({ destination: '10.2.0.1', protocol: 'icmp' })).reason).toContain(
      'ap-sh-2 (standby)',
    );
    dataPlane.setTunnelStates([{ accessPoint: 'ap-sh-2', status: 'down', carrying: true }]);
    expect(await dataPlane.probe({ destination: '10.2.0.1', protocol: 'icmp' })).toEqual({
      reachable: false,
      reason: 'no tunnel is up for icmp to 10.2.0.1 (active ap-sh-1 down, standby ap-sh-2 down)',
    });
  });

  it('reports a WAN outage and rejects a malformed destination', async () => {
    const dataPlane = await applied();
    dataPlane.setPortStatus('wan1', 'down');
    expect((await dataPlane.probe({ destination: '10.1.0.1', protocol: 'udp', port: 53 })).reason).toBe(
      'every WAN port is down (wan1)',
    );
    expect((await dataPlane.probe({ destination: '10.1.0', protocol: 'icmp' })).reachable).toBe(false);
  });

  it('applies the ACL in priority order, first match wins', async () => {
    const config = sampleConfig();
    config.aclRules.unshift({
      ...config.aclRules[0],
      id: 'aclr-0',
      name: 'allow admin ssh',
      policy: 'accept',
      priority: 0,
      destCidr: '10.1.0.10/32',
    });
    const dataPlane = await applied(config);
    expect((await dataPlane.probe({ destination: '10.1.0.10', protocol: 'tcp', port: 22 })).reachable).toBe(
      true,
    );
    expect((await dataPlane.probe({ destination: '10.1.0.11', protocol: 'tcp', port: 22 })).reason).toMatch(
      /aclr-1/,
    );
  });

  it('is all or nothing: a failed apply leaves the previous config fully in place', async () => {
    const dataPlane = await applied();
    const before = dataPlane.snapshot();
    dataPlane.failNextApply('nftables batch refused');
    const next = sampleConfig({ revision: 2, routes: [], aclRules: [] });
    await expect(dataPlane.apply(next)).rejects.toMatchObject({
      code: 'DATAPLANE_APPLY_FAILED',
      message: expect.stringContaining('nftables batch refused'),
    });
    expect(dataPlane.snapshot()).toEqual(before);
    await dataPlane.apply(next);
    expect(dataPlane.snapshot().revision).toBe(2);
    expect(dataPlane.lookup('10.1.0.1')).toBeNull();
  });

  it('refuses a config whose routes cannot be built, without changing anything', async () => {
    const dataPlane = await applied();
    const before = dataPlane.snapshot();
    const bad = sampleConfig({ revision: 2 });
    bad.routes[0].destination = '10.1.0.1/16';
    await expect(dataPlane.apply(bad)).rejects.toMatchObject({ code: 'DATAPLANE_APPLY_FAILED' });
    expect(dataPlane.snapshot()).toEqual(before);
  });

  it('verify names what differs from the desired config', async () => {
    const dataPlane = new EmulatedDataPlane();
    dataPlane.loseRouteOnNextApply('10.2.0.0/16');
    await dataPlane.apply(sampleConfig());
    expect(await dataPlane.verify(sampleConfig())).toEqual(['route 10.2.0.0/16 (tunnel) is missing']);
    const other = sampleConfig({ revision: 2 });
    other.aclRules[0].destPortRange = '23/23';
    expect(await dataPlane.verify(other)).toEqual([
      'revision: want 2, have 1',
      'route 10.2.0.0/16 (tunnel) is missing',
      'ACL rules differ: want [aclr-1], have [aclr-1] (rule content)',
    ]);
  });

  it('keeps link state for unchanged tunnels across applies', async () => {
    const dataPlane = await applied();
    dataPlane.setTunnelStates([
      { accessPoint: 'ap-sh-1', status: 'down', carrying: false },
      { accessPoint: 'ap-sh-2', status: 'up', carrying: true },
    ]);
    await dataPlane.apply(sampleConfig({ revision: 2 }));
    expect(dataPlane.snapshot().tunnels.map((t) => [t.status, t.carrying])).toEqual([
      ['down', false],
      ['up', true],
    ]);
  });

  it('resets to empty and refuses work once closed', async () => {
    const dataPlane = await applied();
    await dataPlane.reset();
    expect(dataPlane.snapshot()).toMatchObject({ revision: null, routes: [], tunnels: [] });
    await dataPlane.close();
    await expect(dataPlane.apply(sampleConfig())).rejects.toMatchObject({ code: 'DATAPLANE_CLOSED' });
  });
});
