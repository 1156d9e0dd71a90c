import type { Change, Command } from './runner.js';

/** A gateway forwards between its LAN and its tunnels; IPv4 forwarding must be on. */
export function readForwardingCommand(): Command {
  return { cmd: 'sysctl', args: ['-n', 'net.ipv4.ip_forward'] };
}

export function planForwarding(wanted: boolean, current: string): Change[] {
  if (!wanted || current.trim() === '1') return [];
  return [
    {
      reason: `IPv4 forwarding is off (net.ipv4.ip_forward=${current.trim()})`,
      commands: [{ cmd: 'sysctl', args: ['-w', 'net.ipv4.ip_forward=1'] }],
    },
  ];
}
