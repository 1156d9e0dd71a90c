import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../errors.js';
import { validatePorts } from './ports.js';
import type { GatewayPorts, LanPort, WanPort } from './types.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

const dhcpWan: WanPort = { name: 'wan0', mode: 'dhcp' };
const lan: LanPort = {
  name: 'lan0',
  address: '172.16.0.1/24',
  dhcp: { start: '172.16.0.100', end: '172.16.0.200', leaseMinutes: 720 },
};

function refusedPorts(ports: GatewayPorts, privateCidrs: string[] = []): SagError {
  const err = refusal(() => validatePorts(ports, privateCidrs));
  expect(err.code).toBe('INVALID_PORTS');
  return err;
}

describe('validatePorts', () => {
  it('accepts DHCP, static and PPPoE WAN ports with LAN ports inside the private blocks', () => {
    const ports: GatewayPorts = {
      wan: [
        dhcpWan,
        {
          name: 'wan1',
          mode: 'static',
          address: '203.0.113.10/24',
          gateway: '203.0.113.1',
          dns: ['223.5.5.5'],
        },
        { name: 'wan2', mode: 'pppoe', username: 'hz-office', password: 'secret', priority: 2 },
      ],
      lan: [lan, { name: 'lan1', address: '172.16.1.1/24' }],
    };
    expect(validatePorts(ports, ['172.16.0.0/16'])).toEqual(ports);
  });

  it('drops unknown fields', () => {
    const ports = { wan: [{ ...dhcpWan, vlan: 7 }], lan: [] } as unknown as GatewayPorts;
    expect(validatePorts(ports, [])).toEqual({ wan: [dhcpWan], lan: [] });
  });

  it('needs 1 to 4 WAN ports and at most 8 LAN ports', () => {
    expect(refusedPorts({ wan: [], lan: [] }).message).toContain('1 to 4 WAN ports');
    const wan = Array.from({ length: 5 }, (_, i) => ({ name: `wan${i}`, mode: 'dhcp' as const }));
    expect(refusedPorts({ wan, lan: [] }).message).toContain('1 to 4 WAN ports');
    const lans = Array.from({ length: 9 }, (_, i) => ({ name: `lan${i}`, address: `172.16.${i}.1/24` }));
    expect(refusedPorts({ wan: [dhcpWan], lan: lans }).message).toContain('0 to 8 LAN ports');
  });

  it('refuses duplicate port names across WAN and LAN', () => {
    const err = refusedPorts({ wan: [dhcpWan], lan: [{ ...lan, name: 'wan0' }] });
    expect(err.message).toContain('lan[0].name');
    expect(err.message).toContain('wan0 is used twice');
  });

  it('refuses bad port names', () => {
    expect(refusedPorts({ wan: [{ ...dhcpWan, name: 'wan 0' }], lan: [] }).message).toContain('wan[0].name');
    expect(refusedPorts({ wan: [{ ...dhcpWan, name: 'averyveryverylongname' }], lan: [] }).code).toBe(
      'INVALID_PORTS',
    );
  });

  it('requires address and gateway for a static WAN', () => {
    expect(
      refusedPorts({ wan: [{ name: 'wan0', mode: 'static', gateway: '203.0.113.1' }], lan: [] }).message,
    ).toContain('wan[0].address: is required in static mode');
    expect(
      refusedPorts({ wan: [{ name: 'wan0', mode: 'static', address: '203.0.113.10/24' }], lan: [] }).message,
    ).toContain('wan[0].gateway: is required in static mode');
  });

  it('requires the static WAN gateway inside the WAN subnet', () => {
    const wan: WanPort = {
      name: 'wan0',
      mode: 'static',
      address: '203.0.113.10/24',
      gateway: '198.51.100.1',
    };
    expect(refusedPorts({ wan: [wan], lan: [] }).message).toContain('inside 203.0.113.0/24');
  });

  it('requires username and password for PPPoE and refuses them elsewhere', () => {
    expect(
      refusedPorts({ wan: [{ name: 'wan0', mode: 'pppoe', username: 'u' }], lan: [] }).message,
    ).toContain('wan[0].password: is required in pppoe mode');
    expect(refusedPorts({ wan: [{ ...dhcpWan, username: 'u' }], lan: [] }).message).toContain(
      'not used in dhcp mode',
    );
    expect(refusedPorts({ wan: [{ ...dhcpWan, address: '1.2.3.4/24' }], lan: [] }).message).toContain(
      'not used in dhcp mode',
    );
  });

  it('refuses an unknown WAN mode and bad DNS servers', () => {
    const modem = { name: 'wan0', mode: 'lte' } as unknown as WanPort;
    expect(refusedPorts({ wan: [modem], lan: [] }).message).toContain('dhcp, static or pppoe');
    expect(refusedPorts({ wan: [{ ...dhcpWan, dns: ['8.8.8'] }], lan: [] }).message).toContain(
      'wan[0].dns[0]',
    );
  });

  it('refuses a LAN address outside the private blocks, naming them', () => {
    const err = refusedPorts({ wan: [dhcpWan], lan: [{ name: 'lan0', address: '192.168.1.1/24' }] }, [
      '172.16.0.0/16',
    ]);
    expect(err.message).toContain('lan0 address 192.168.1.1/24 lies outside');
    expect(err.message).toContain('172.16.0.0/16');
  });

  it('refuses network and broadcast addresses and overlapping LAN subnets', () => {
    expect(
      refusedPorts({ wan: [dhcpWan], lan: [{ name: 'lan0', address: '172.16.0.0/24' }] }).message,
    ).toContain('network or broadcast');
    const lans = [
      { name: 'lan0', address: '172.16.0.1/23' },
      { name: 'lan1', address: '172.16.1.1/24' },
    ];
    expect(refusedPorts({ wan: [dhcpWan], lan: lans }).message).toContain('overlaps that of lan0');
  });

  it('checks the DHCP pool against the LAN subnet', () => {
    const withPool = (dhcp: LanPort['dhcp']) => ({ wan: [dhcpWan], lan: [{ ...lan, dhcp }] });
    expect(
      refusedPorts(withPool({ start: '172.16.0.200', end: '172.16.0.100', leaseMinutes: 60 })).message,
    ).toContain('is after its end');
    expect(
      refusedPorts(withPool({ start: '172.16.0.100', end: '172.16.1.10', leaseMinutes: 60 })).message,
    ).toContain('inside the host addresses of 172.16.0.0/24');
    expect(
      refusedPorts(withPool({ start: '172.16.0.1', end: '172.16.0.50', leaseMinutes: 60 })).message,
    ).toContain("contains the port's own address");
    expect(
      refusedPorts(withPool({ start: '172.16.0.10', end: '172.16.0.50', leaseMinutes: 0 })).message,
    ).toContain('leaseMinutes');
  });
});
