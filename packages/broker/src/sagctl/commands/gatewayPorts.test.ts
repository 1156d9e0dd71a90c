import { describe, expect, it } from 'vitest';
import { Flags, parseFlags, UsageError } from '../args.js';
import { DEFAULT_LEASE_MINUTES, portsFromFlags } from './gatewayPorts.js';

const SPECS = {
  wan: { type: 'string', multiple: true, description: '' },
  lan: { type: 'string', multiple: true, description: '' },
  file: { type: 'string', description: '' },
} as const;

function ports(...argv: string[]) {
  const { values } = parseFlags(argv, SPECS, 'sagctl gateway ports');
  return portsFromFlags(new Flags(values, 'sagctl gateway ports'));
}

describe('portsFromFlags', () => {
  it('reads the three WAN forms and LAN ports with and without a DHCP pool', () => {
    expect(
      ports(
        '--wan',
        'wan0:dhcp',
        '--wan',
        'wan1:static:203.0.113.2/24:203.0.113.1',
        '--wan',
        'wan2:pppoe:branch:se:cret',
        '--lan',
        'lan0:172.16.0.1/24',
        '--lan',
        'lan1:172.16.1.1/24:172.16.1.100-172.16.1.200',
        '--lan',
        'lan2:172.16.2.1/24:172.16.2.10-172.16.2.20:60',
      ),
    ).toEqual({
      wan: [
        { name: 'wan0', mode: 'dhcp' },
        { name: 'wan1', mode: 'static', address: '203.0.113.2/24', gateway: '203.0.113.1' },
        { name: 'wan2', mode: 'pppoe', username: 'branch', password: 'se:cret' },
      ],
      lan: [
        { name: 'lan0', address: '172.16.0.1/24' },
        {
          name: 'lan1',
          address: '172.16.1.1/24',
          dhcp: { start: '172.16.1.100', end: '172.16.1.200', leaseMinutes: DEFAULT_LEASE_MINUTES },
        },
        {
          name: 'lan2',
          address: '172.16.2.1/24',
          dhcp: { start: '172.16.2.10', end: '172.16.2.20', leaseMinutes: 60 },
        },
      ],
    });
  });

  it.each([
    [['--lan', 'lan0:172.16.0.1/24'], 'give at least one --wan'],
    [['--wan', 'wan0:static:203.0.113.2/24'], 'expected NAME:dhcp'],
    [['--wan', 'wan0:dhcp:extra'], 'expected NAME:dhcp'],
    [['--wan', 'wan0:dhcp', '--lan', 'lan0:172.16.0.1/24:172.16.0.9'], 'the DHCP pool is START-END'],
    [['--wan', 'wan0:dhcp', '--lan', 'lan0:172.16.0.1/24:a-b:long'], 'is not whole minutes'],
    [['--wan', 'wan0:dhcp', '--file', 'ports.json'], 'give --file or --wan/--lan, not both'],
    [['--file', '/nonexistent/ports.json'], '--file /nonexistent/ports.json'],
  ])('refuses %j as bad usage', (argv, message) => {
    expect(() => ports(...argv)).toThrow(UsageError);
    expect(() => ports(...argv)).toThrow(message);
  });
});
