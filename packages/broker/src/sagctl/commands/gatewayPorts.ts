import { readFileSync } from 'node:fs';
import type { GatewayPorts } from '../../api/schemas/gateways.js';
import type { Flags } from '../args.js';

/**
 * Port settings from the command line. The broker validates them (INVALID_PORTS names the field);
 * here only the shorthand is taken apart.
 */

type WanPort = GatewayPorts['wan'][number];
type LanPort = GatewayPorts['lan'][number];

/** Minutes a LAN DHCP lease lasts when `--lan` gives a pool but no lease. */
export const DEFAULT_LEASE_MINUTES = 1440;

export const WAN_FORMS = 'NAME:dhcp, NAME:static:ADDRESS/PREFIX:GATEWAY or NAME:pppoe:USER:PASSWORD';
export const LAN_FORMS = 'NAME:ADDRESS/PREFIX[:START-END[:LEASE_MINUTES]]';

export function portsFromFlags(flags: Flags): GatewayPorts {
  const file = flags.optionalText('file');
  if (file !== undefined) {
    if (flags.has('wan') || flags.has('lan')) throw flags.usage('give --file or --wan/--lan, not both');
    return portsFile(file, flags);
  }
  if (!flags.has('wan')) throw flags.usage(`give at least one --wan (${WAN_FORMS}) or --file`);
  return {
    wan: flags.list('wan').map((text) => wanPort(text, flags)),
    lan: flags.list('lan').map((text) => lanPort(text, flags)),
  };
}

function wanPort(text: string, flags: Flags): WanPort {
  const [name, mode, ...rest] = text.split(':');
  if (!name || !mode) throw flags.usage(`--wan "${text}": expected ${WAN_FORMS}`);
  if (mode === 'dhcp' && rest.length === 0) return { name, mode };
  if (mode === 'static' && rest.length === 2) return { name, mode, address: rest[0], gateway: rest[1] };
  // The password may itself hold colons: everything after the user is the password.
  if (mode === 'pppoe' && rest.length >= 2) {
    return { name, mode, username: rest[0], password: rest.slice(1).join(':') };
  }
  throw flags.usage(`--wan "${text}": expected ${WAN_FORMS}`);
}

function lanPort(text: string, flags: Flags): LanPort {
  const [name, address, pool, lease, ...extra] = text.split(':');
  if (!name || !address || extra.length > 0) throw flags.usage(`--lan "${text}": expected ${LAN_FORMS}`);
  if (pool === undefined) return { name, address };
  const [start, end] = pool.split('-');
  if (!start || !end)
    throw flags.usage(`--lan "${text}": the DHCP pool is START-END, e.g. 172.16.0.100-172.16.0.200`);
  const leaseMinutes = lease === undefined ? DEFAULT_LEASE_MINUTES : Number(lease);
  if (!Number.isInteger(leaseMinutes))
    throw flags.usage(`--lan "${text}": lease "${lease}" is not whole minutes`);
  return { name, address, dhcp: { start, end, leaseMinutes } };
}

function portsFile(path: string, flags: Flags): GatewayPorts {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw flags.usage(`--file ${path}: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw flags.usage(`--file ${path}: expected a JSON object {"wan": [...], "lan": [...]}`);
  }
  // Passed on as written: the API's schema names any field that is wrong.
  return data as GatewayPorts;
}
