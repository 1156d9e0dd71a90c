import { describe, expect, it } from 'vitest';
import { parseRoutes, planRoutes } from './routes.js';

const LISTED = JSON.stringify([
  { dst: 'default', gateway: '192.0.2.2', dev: 'wan0', metric: 100, flags: [] },
  { dst: '10.1.0.0/16', dev: 'sag-wg0', scope: 'link', flags: [] },
  { dst: '10.9.9.9', dev: 'sag-wg0', scope: 'link', flags: [] },
]);

describe('parseRoutes', () => {
  it('reads ip -json routes, default as 0.0.0.0/0 and host routes as /32', () => {
    expect(parseRoutes(LISTED)).toEqual([
      { destination: '0.0.0.0/0', dev: 'wan0', via: '192.0.2.2', metric: 100 },
      { destination: '10.1.0.0/16', dev: 'sag-wg0' },
      { destination: '10.9.9.9/32', dev: 'sag-wg0' },
    ]);
    expect(parseRoutes('')).toEqual([]);
  });
});

describe('planRoutes', () => {
  const installed = parseRoutes(LISTED);
  const desired = [
    { destination: '0.0.0.0/0', dev: 'wan0', via: '192.0.2.2', metric: 100 },
    { destination: '10.1.0.0/16', dev: 'sag-wg0' },
    { destination: '10.9.9.9/32', dev: 'sag-wg0' },
  ];

  it('changes nothing when every owned route is as desired', () => {
    expect(planRoutes(desired, installed)).toEqual([]);
  });

  it('replaces a route whose next hop moved and adds a missing one, with protocol 222', () => {
    const changes = planRoutes(
      [
        ...desired.slice(0, 2).map((r) => (r.dev === 'sag-wg0' ? { ...r, dev: 'sag-wg1' } : r)),
        desired[2],
        { destination: '10.2.0.0/16', dev: 'sag-wg1' },
      ],
      installed,
    );
    expect(changes.map((c) => c.reason)).toEqual([
      'route 10.1.0.0/16 dev sag-wg1 is installed as route 10.1.0.0/16 dev sag-wg0',
      'route 10.2.0.0/16 dev sag-wg1 is missing',
    ]);
    expect(changes[0].commands[0].args).toEqual([
      'route',
      'replace',
      '10.1.0.0/16',
      'dev',
      'sag-wg1',
      'proto',
      '222',
      'table',
      'main',
    ]);
  });

  it('deletes owned routes no longer configured, by destination, protocol and metric', () => {
    const changes = planRoutes([desired[1]], installed);
    expect(changes.map((c) => c.commands[0].args)).toEqual([
      ['route', 'del', '0.0.0.0/0', 'proto', '222', 'metric', '100', 'table', 'main'],
      ['route', 'del', '10.9.9.9/32', 'proto', '222', 'metric', '0', 'table', 'main'],
    ]);
  });

  it('writes a default route with its gateway, onlink and metric', () => {
    const [change] = planRoutes(
      [{ destination: '0.0.0.0/0', dev: 'wan0', via: '203.0.113.1', metric: 101, onlink: true }],
      [],
    );
    expect(change.commands[0].args).toEqual([
      'route',
      'replace',
      '0.0.0.0/0',
      'via',
      '203.0.113.1',
      'dev',
      'wan0',
      'onlink',
      'proto',
      '222',
      'metric',
      '101',
      'table',
      'main',
    ]);
  });
});
