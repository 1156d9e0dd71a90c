import { describe, expect, it } from 'vitest';
import { STEPS } from './reconcile.js';
import type { Change } from './runner.js';

const tunnels = STEPS.find((step) => step.name === 'tunnels');

const alteredBy = (changes: Change[]) => {
  const alters = tunnels?.alters;
  return typeof alters === 'function' ? alters(changes) : alters;
};

describe('the tunnels step', () => {
  it('reads the routes again only after it deleted a tunnel, which takes its routes with it', () => {
    const created: Change = {
      reason: 'tunnel sag-wg0 (ap-1) is missing',
      commands: [
        { cmd: 'wireguard-go', args: ['sag-wg0'] },
        { cmd: 'wg', args: ['set', 'sag-wg0', 'listen-port', '51820'] },
      ],
    };
    const deleted: Change = {
      reason: 'tunnel sag-wg1 is installed but not configured',
      commands: [{ cmd: 'ip', args: ['link', 'del', 'dev', 'sag-wg1'] }],
    };
    expect(alteredBy([created])).toEqual(['links', 'wireguard']);
    expect(alteredBy([created, deleted])).toEqual(['links', 'wireguard', 'routes']);
  });
});
