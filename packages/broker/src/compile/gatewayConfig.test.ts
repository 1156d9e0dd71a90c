import { describe, expect, it } from 'vitest';
import { isSagError } from '../errors.js';
import { acl, aclRule, referenceTopology, SCENARIO_SETTINGS, vpc } from '../testing/referenceTopology.js';
import { compileGatewayConfig } from './gatewayConfig.js';

describe('compileGatewayConfig', () => {
  it('compiles the Hangzhou gateway of the reference scenario', () => {
    const config = compileGatewayConfig(referenceTopology(), 'sag-hz', SCENARIO_SETTINGS);
    expect(config).toEqual({
      gatewayId: 'sag-hz',
      serialNumber: 'SN-sag-hz',
      ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
      privateCidrs: ['172.16.0.0/16'],
      tunnels: [
        {
          accessPoint: 'ap-shanghai',
          address: '127.0.0.1:7000',
          publicKey: 'c2hhbmdoYWktYWNjZXNzLXBvaW50LWtleS0wMDAwMDA=',
          role: 'active',
        },
        { accessPoint: 'ap-beijing', address: '127.0.0.1:7001', role: 'standby' },
      ],
      keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 5000 },
      routes: [
        { destination: '10.1.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-sh', sourceKind: 'vpc' },
        { destination: '10.2.0.0/16', nextHop: 'tunnel', sourceResourceId: 'vpc-bj', sourceKind: 'vpc' },
        {
          destination: '172.17.0.0/16',
          nextHop: 'tunnel',
          sourceResourceId: 'sag-nb',
          sourceKind: 'gateway',
        },
      ],
      aclRules: [],
      aclId: null,
    });
  });

  it('uses at most two access points: the first active, the second standby', () => {
    const settings = {
      ...SCENARIO_SETTINGS,
      accessPoints: [
        { id: 'ap-1', address: '10.255.0.1:7000' },
        { id: 'ap-2', address: '10.255.0.2:7000' },
        { id: 'ap-3', address: '10.255.0.3:7000' },
      ],
    };
    const config = compileGatewayConfig(referenceTopology(), 'sag-hz', settings);
    expect(config.tunnels.map((t) => [t.accessPoint, t.role])).toEqual([
      ['ap-1', 'active'],
      ['ap-2', 'standby'],
    ]);
    const single = compileGatewayConfig(referenceTopology(), 'sag-hz', {
      ...settings,
      accessPoints: settings.accessPoints.slice(0, 1),
    });
    expect(single.tunnels).toEqual([{ accessPoint: 'ap-1', address: '10.255.0.1:7000', role: 'active' }]);
  });

  it('gives a gateway with no CCN no routes', () => {
    const topology = referenceTopology();
    topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, ccnId: null });
    expect(compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS).routes).toEqual([]);
  });

  it('lists ACL rules in evaluation order: priority, then insertion', () => {
    const topology = referenceTopology();
    topology.acls.set(
      'acl-branch',
      acl({
        id: 'acl-branch',
        name: 'branch-acl',
        rules: [
          aclRule({ id: 'r-a', priority: 5 }),
          aclRule({ id: 'r-b', priority: 1 }),
          aclRule({ id: 'r-c', priority: 5 }),
          aclRule({ id: 'r-d', priority: 3 }),
        ],
      }),
    );
    topology.gateways.set('sag-hz', { ...topology.gateways.get('sag-hz')!, aclId: 'acl-branch' });
    const config = compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS);
    expect(config.aclId).toBe('acl-branch');
    expect(config.aclRules.map((r) => r.id)).toEqual(['r-b', 'r-d', 'r-a', 'r-c']);
    expect(compileGatewayConfig(topology, 'sag-nb', SCENARIO_SETTINGS).aclRules).toEqual([]);
  });

  it('leaves out a route made inactive by the cross-area rule until a bandwidth package exists', () => {
    const topology = referenceTopology();
    topology.vpcs.set(
      'vpc-sg',
      vpc({ id: 'vpc-sg', region: 'ap-southeast-1', cidrBlocks: ['10.3.0.0/16'], cenId: 'cen-main' }),
    );
    const destinations = () =>
      compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS).routes.map((r) => r.destination);
    expect(destinations()).toEqual(['10.1.0.0/16', '10.2.0.0/16', '172.17.0.0/16']);
    topology.cens.set('cen-main', {
      ...topology.cens.get('cen-main')!,
      bandwidthPackages: [{ areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 20 }],
    });
    expect(destinations()).toEqual(['10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '172.17.0.0/16']);
  });

  it('takes the region lookup from the settings when given', () => {
    const settings = {
      ...SCENARIO_SETTINGS,
      areaOfRegion: (region: string) => (region === 'cn-beijing' ? 'north' : 'china-mainland'),
    };
    const routes = compileGatewayConfig(referenceTopology(), 'sag-hz', settings).routes;
    expect(routes.map((r) => r.sourceResourceId)).toEqual(['vpc-sh', 'sag-nb']);
  });

  it('is a snapshot: later edits to the topology do not reach into it', () => {
    const topology = referenceTopology();
    const config = compileGatewayConfig(topology, 'sag-hz', SCENARIO_SETTINGS);
    topology.gateways.get('sag-hz')!.ports.wan.push({ name: 'wan1', mode: 'dhcp' });
    topology.gateways.get('sag-hz')!.privateCidrs.push('172.18.0.0/16');
    expect(config.ports.wan).toHaveLength(1);
    expect(config.privateCidrs).toEqual(['172.16.0.0/16']);
  });

  it('refuses an unknown gateway with NOT_FOUND', () => {
    try {
      compileGatewayConfig(referenceTopology(), 'sag-nope', SCENARIO_SETTINGS);
      expect.unreachable();
    } catch (err) {
      expect(isSagError(err) && err.code).toBe('NOT_FOUND');
      expect((err as Error).message).toBe('gateway sag-nope not found');
    }
  });
});
