import { describe, expect, it } from 'vitest';
import { formatCommand } from '../linux/runner.js';
import { desiredEdgeRoutes, parseEdgeRoutes, planEdgeRoutes } from './edgeRoutes.js';
import { edgeConfig } from './sampleEdgeConfig.js';

describe('edge routes', () => {
  const desired = desiredEdgeRoutes(edgeConfig());

  it('routes every branch block into sag-edge0 with protocol 223', () => {
    expect(desired).toEqual([
      { destination: '172.16.0.0/16', dev: 'sag-edge0' },
      { destination: '192.168.10.0/24', dev: 'sag-edge0' },
    ]);
    expect(planEdgeRoutes(desired, []).flatMap((c) => c.commands.map(formatCommand))).toEqual([
      'ip route replace 172.16.0.0/16 dev sag-edge0 proto 223 table main',
      'ip route replace 192.168.10.0/24 dev sag-edge0 proto 223 table main',
    ]);
  });

  it('keeps matching routes and deletes owned ones no longer wanted', () => {
    const installed = parseEdgeRoutes(
      JSON.stringify([
        { dst: '172.16.0.0/16', dev: 'sag-edge0' },
        { dst: '192.168.10.0/24', dev: 'sag-edge0' },
        { dst: '10.50.0.0/16', dev: 'sag-edge0' },
      ]),
    );
    expect(planEdgeRoutes(desired, installed).flatMap((c) => c.commands.map(formatCommand))).toEqual([
      'ip route del 10.50.0.0/16 proto 223 metric 0 table main',
    ]);
    expect(planEdgeRoutes(desired, installed.slice(0, 2))).toEqual([]);
  });
});
