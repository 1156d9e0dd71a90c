import { describe, expect, it } from 'vitest';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { desiredDhcp, planDhcp, type RunningDhcpServer } from './dnsmasq.js';

describe('desiredDhcp', () => {
  it('runs one DHCP-only dnsmasq per LAN pool, files in the state directory', () => {
    const config = sampleConfig();
    config.ports.wan = [{ name: 'wan1', mode: 'dhcp', dns: ['223.5.5.5'] }];
    expect(desiredDhcp(config, '/state')).toEqual([
      {
        port: 'lan1',
        pidFile: '/state/dnsmasq-lan1.pid',
        args: [
          '--conf-file=/dev/null',
          '--no-resolv',
          '--no-hosts',
          '--port=0',
          '--interface=lan1',
          '--except-interface=lo',
          '--bind-interfaces',
          '--dhcp-range=172.16.0.100,172.16.0.200,720m',
          '--dhcp-leasefile=/state/dnsmasq-lan1.leases',
          '--pid-file=/state/dnsmasq-lan1.pid',
          '--dhcp-option=option:dns-server,223.5.5.5',
        ],
      },
    ]);
  });

  it('runs none for a LAN port without a pool', () => {
    const config = sampleConfig();
    config.ports.lan = [{ name: 'lan1', address: '172.16.0.1/24' }];
    expect(desiredDhcp(config, '/state')).toEqual([]);
  });
});

describe('planDhcp', () => {
  const [server] = desiredDhcp(sampleConfig(), '/state');
  const running = (overrides: Partial<RunningDhcpServer>): RunningDhcpServer => ({
    port: 'lan1',
    pidFile: server.pidFile,
    pid: 4242,
    args: server.args,
    ...overrides,
  });

  it('starts a missing server and leaves a matching one alone', () => {
    expect(planDhcp([server], [])[0].commands).toEqual([{ cmd: 'dnsmasq', args: server.args }]);
    expect(planDhcp([server], [running({})])).toEqual([]);
  });

  it('restarts a server whose pool changed, waiting for the old one to exit', () => {
    const [change] = planDhcp([server], [running({ args: ['--dhcp-range=172.16.0.100,172.16.0.150,720m'] })]);
    expect(change.reason).toBe(
      'dnsmasq 4242 on port lan1 runs with other settings than pool 172.16.0.100,172.16.0.200,720m',
    );
    expect(change.commands.map((c) => c.cmd)).toEqual(['kill', 'timeout', 'rm', 'dnsmasq']);
  });

  it('stops servers of ports without a pool and clears stale pid files', () => {
    expect(planDhcp([], [running({})])[0].commands.map((c) => `${c.cmd} ${c.args[0]}`)).toEqual([
      'kill 4242',
      'timeout 5',
      'rm -f',
    ]);
    expect(planDhcp([], [running({ pid: null })])[0].commands).toEqual([
      { cmd: 'rm', args: ['-f', '/state/dnsmasq-lan1.pid'] },
    ]);
  });
});
