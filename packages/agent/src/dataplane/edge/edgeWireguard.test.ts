import { describe, expect, it } from 'vitest';
import { formatCommand } from '../linux/runner.js';
import { desiredEdgeInterface, parseEdgeInterface, planEdgeInterface } from './edgeWireguard.js';
import { edgeConfig } from './sampleEdgeConfig.js';

const KEY = { privateKeyFile: '/state/tunnel-key', publicKey: `${'E'.repeat(43)}=` };
const A = `${'A'.repeat(43)}=`;
const B = `${'B'.repeat(43)}=`;
const C = `${'C'.repeat(43)}=`;
const commands = (changes: ReturnType<typeof planEdgeInterface>) =>
  changes.flatMap((change) => change.commands.map(formatCommand));

const link = (flags: string[]) => ({ code: 0, stdout: JSON.stringify([{ ifname: 'sag-edge0', flags }]) });
const dump = (port: number, peers: string[]) => [`PRIV\t${KEY.publicKey}\t${port}\toff`, ...peers].join('\n');
const peerLine = (key: string, allowed: string) => `${key}\t(none)\t(none)\t${allowed}\t0\t0\t0\toff`;

describe('planEdgeInterface', () => {
  const desired = desiredEdgeInterface(edgeConfig());

  it('creates sag-edge0 with one peer per gateway and its branch blocks', () => {
    expect(commands(planEdgeInterface(desired, null, KEY))).toEqual([
      'ip link add dev sag-edge0 type wireguard',
      'wg set sag-edge0 private-key /state/tunnel-key listen-port 7001',
      `wg set sag-edge0 peer ${A} allowed-ips 172.16.0.0/16`,
      `wg set sag-edge0 peer ${B} allowed-ips 192.168.10.0/24`,
      'ip link set dev sag-edge0 up',
    ]);
    expect(planEdgeInterface(desired, null, KEY, 'auto')[0].commands[0].fallback).toEqual({
      cmd: 'wireguard-go',
      args: ['sag-edge0'],
    });
  });

  it('plans nothing when the interface matches', () => {
    const installed = parseEdgeInterface(
      link(['UP']),
      dump(7001, [peerLine(B, '192.168.10.0/24'), peerLine(A, '172.16.0.0/16')]),
    );
    expect(planEdgeInterface(desired, installed, KEY)).toEqual([]);
  });

  it('adds, updates and removes only the peers that differ', () => {
    const installed = parseEdgeInterface(
      link([]),
      dump(7001, [peerLine(A, '172.16.0.0/24'), peerLine(C, '10.9.0.0/16')]),
    );
    const changes = planEdgeInterface(desired, installed, KEY);
    expect(commands(changes)).toEqual([
      `wg set sag-edge0 peer ${C} remove`,
      `wg set sag-edge0 peer ${A} allowed-ips 172.16.0.0/16`,
      `wg set sag-edge0 peer ${B} allowed-ips 192.168.10.0/24`,
      'ip link set dev sag-edge0 up',
    ]);
    expect(changes[1].reason).toBe(
      `sag-edge0 peer ${A} (gateway sag-hz) allows 172.16.0.0/24, want 172.16.0.0/16`,
    );
  });

  it('resets the key and port when they changed, and deletes the interface when unconfigured', () => {
    const installed = parseEdgeInterface(link(['UP']), dump(9999, []));
    expect(commands(planEdgeInterface({ listenPort: 7001, peers: [] }, installed, KEY))).toEqual([
      'wg set sag-edge0 private-key /state/tunnel-key listen-port 7001',
    ]);
    expect(commands(planEdgeInterface(null, installed, KEY))).toEqual(['ip link del dev sag-edge0']);
    expect(planEdgeInterface(null, null, KEY)).toEqual([]);
  });

  it('reads a missing interface as absent', () => {
    expect(parseEdgeInterface({ code: 1, stdout: '' }, '')).toBeNull();
  });
});
