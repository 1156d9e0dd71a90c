import type { EdgeSettings } from '@opensag/proto';
import { describe, expect, it } from 'vitest';
import { sampleEdgeConfig } from '../../testing/sampleConfig.js';
import type { CommandRunner } from '../linux/runner.js';
import { resolveEdge, resolveEdgeOnMachine } from './vpcInterfaces.js';

const settings = sampleEdgeConfig().edge as EdgeSettings;

const inet = (local: string, prefixlen: number) => ({ family: 'inet', local, prefixlen });

/** `ip -json address show` of an access point with a WAN link and one link into the Shanghai VPC. */
const IP_ADDR = JSON.stringify([
  { ifname: 'lo', flags: ['LOOPBACK', 'UP'], addr_info: [inet('127.0.0.1', 8), inet('10.2.0.1', 32)] },
  {
    ifname: 'wan0',
    flags: ['UP'],
    addr_info: [inet('192.0.2.1', 24), { family: 'inet6', local: 'fd00::1', prefixlen: 64 }],
  },
  { ifname: 'sag-edge0', flags: ['UP'], addr_info: [inet('10.2.9.9', 32)] },
  { ifname: 'vpc-sh0', flags: ['UP'], addr_info: [inet('10.1.0.1', 24)] },
  { ifname: 'vpc-sh1', flags: ['UP'], addr_info: [inet('10.1.1.1', 24)] },
]);

function runnerAnswering(stdout: string, code = 0) {
  const calls: string[] = [];
  const runner: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    return { stdout, stderr: code === 0 ? '' : 'Cannot open netlink socket', code };
  };
  return { runner, calls };
}

describe('resolving the links to the VPCs', () => {
  it('gives each VPC the first interface holding an address inside its blocks', async () => {
    const { runner, calls } = runnerAnswering(IP_ADDR);
    const { config } = await resolveEdgeOnMachine(settings, runner);
    expect(calls).toEqual(['ip -json address show']);
    expect(config.vpcs).toEqual([{ vpcId: 'vpc-sh', cidrBlocks: ['10.1.0.0/16'], interface: 'vpc-sh0' }]);
    expect(config.peers).toEqual(settings.peers);
    expect(config.listenPort).toBe(51821);
  });

  it('leaves out a VPC no interface reaches, with its instances, and says which (loopback and the tunnel do not count)', async () => {
    const { runner } = runnerAnswering(IP_ADDR);
    const { config, unreached } = await resolveEdgeOnMachine(settings, runner);
    expect(unreached).toEqual([{ vpcId: 'vpc-bj', cidrBlocks: ['10.2.0.0/16'], instanceIds: ['i-db'] }]);
    expect(config.instances.map((i) => i.instanceId)).toEqual(['i-web']);
    expect(config.securityGroups).toEqual(settings.securityGroups);
  });

  it('looks at every block of a VPC', () => {
    const twoBlocks: EdgeSettings = {
      ...settings,
      vpcs: [{ vpcId: 'vpc-bj', cidrBlocks: ['10.9.0.0/16', '10.2.0.0/16'] }],
      instances: [],
    };
    const links = [{ name: 'vpc-bj0', up: true, operstate: 'UP', addresses: ['10.2.0.1/24'] }];
    expect(resolveEdge(twoBlocks, links)).toEqual({
      config: { ...twoBlocks, vpcs: [{ ...twoBlocks.vpcs[0], interface: 'vpc-bj0' }] },
      unreached: [],
    });
  });

  it('fails naming the command when the addresses cannot be read', async () => {
    const { runner } = runnerAnswering('', 1);
    await expect(resolveEdgeOnMachine(settings, runner)).rejects.toThrow(
      'finding the links to the VPCs: `ip -json address show` exited 1: Cannot open netlink socket',
    );
  });
});
