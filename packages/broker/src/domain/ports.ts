import { isSagError, SagError } from '../errors.js';
import { type Block, blockContains, blocksOverlap, parseAddress, parseBlock } from './cidr.js';
import type { GatewayPorts, LanPort, WanPort } from './types.js';

/** WAN/LAN port configuration of a gateway (SPEC §4 "ports"). */

export const MAX_WAN_PORTS = 4;
export const MAX_LAN_PORTS = 8;
export const MAX_DNS_SERVERS = 4;
export const MAX_LEASE_MINUTES = 525_600;

/** An address on an interface with the prefix of its subnet, e.g. 172.16.0.1/24. */
export interface InterfaceAddress {
  address: number;
  subnet: Block;
}

function invalid(field: string, message: string, details: Record<string, unknown> = {}): SagError {
  return new SagError('INVALID_PORTS', `${field}: ${message}`, { field, ...details });
}

/** Address parsing errors are re-coded so every port problem answers INVALID_PORTS. */
function address(text: string, field: string): number {
  try {
    return parseAddress(text, field);
  } catch (err) {
    if (isSagError(err)) throw new SagError('INVALID_PORTS', err.message, err.details);
    throw err;
  }
}

export function parseInterfaceAddress(
  text: string,
  field: string,
  minPrefix: number,
  maxPrefix: number,
): InterfaceAddress {
  const [ip, prefixText, ...rest] = typeof text === 'string' ? text.split('/') : [];
  const prefix = Number(prefixText);
  if (ip === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText ?? '')) {
    throw invalid(field, `"${String(text)}" is not an interface address with prefix such as 172.16.0.1/24`, {
      value: text,
    });
  }
  if (prefix < minPrefix || prefix > maxPrefix) {
    throw invalid(
      field,
      `${text} has prefix /${prefix}; allowed prefixes are /${minPrefix} to /${maxPrefix}`,
      { value: text },
    );
  }
  const value = address(ip, field);
  const size = 2 ** (32 - prefix);
  const first = value - (value % size);
  const subnet: Block = { text: `${dotted(first)}/${prefix}`, first, last: first + size - 1, prefix };
  if (prefix <= 30 && (value === subnet.first || value === subnet.last)) {
    throw invalid(
      field,
      `${text} is the network or broadcast address of ${subnet.text}; use a host address`,
      { value: text },
    );
  }
  return { address: value, subnet };
}

function dotted(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

function validatePortName(name: string, field: string, seen: Set<string>): string {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,14}$/.test(name)) {
    throw invalid(
      field,
      `"${String(name)}" is not a port name; use 1-15 letters, digits, ".", "_" or "-", starting with a letter`,
      { value: name },
    );
  }
  if (seen.has(name))
    throw invalid(field, `port name ${name} is used twice; port names must be unique`, { value: name });
  seen.add(name);
  return name;
}

function requireText(value: string | undefined, field: string, mode: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, `is required in ${mode} mode`);
  return value;
}

function forbid(value: unknown, field: string, mode: string): void {
  if (value !== undefined) throw invalid(field, `is not used in ${mode} mode; remove it`);
}

function validateWanPort(port: WanPort, field: string, seen: Set<string>): WanPort {
  const result: WanPort = { name: validatePortName(port.name, `${field}.name`, seen), mode: port.mode };
  if (port.mode === 'static') {
    const iface = parseInterfaceAddress(
      requireText(port.address, `${field}.address`, 'static'),
      `${field}.address`,
      1,
      32,
    );
    const gateway = address(requireText(port.gateway, `${field}.gateway`, 'static'), `${field}.gateway`);
    if (gateway === iface.address || (iface.subnet.prefix <= 30 && !blockContains(iface.subnet, gateway))) {
      throw invalid(
        `${field}.gateway`,
        `${port.gateway} must be another address inside ${iface.subnet.text}`,
      );
    }
    Object.assign(result, { address: port.address, gateway: port.gateway });
  } else {
    forbid(port.address, `${field}.address`, port.mode);
    forbid(port.gateway, `${field}.gateway`, port.mode);
  }
  if (port.mode === 'pppoe') {
    result.username = requireText(port.username, `${field}.username`, 'pppoe');
    result.password = requireText(port.password, `${field}.password`, 'pppoe');
  } else if (port.mode === 'static' || port.mode === 'dhcp') {
    forbid(port.username, `${field}.username`, port.mode);
    forbid(port.password, `${field}.password`, port.mode);
  } else {
    throw invalid(`${field}.mode`, `"${String(port.mode)}" is not a WAN mode; use dhcp, static or pppoe`);
  }
  if (port.dns !== undefined) result.dns = validateDns(port.dns, `${field}.dns`);
  if (port.priority !== undefined) {
    if (!Number.isInteger(port.priority) || port.priority < 1 || port.priority > 100) {
      throw invalid(
        `${field}.priority`,
        `${String(port.priority)} is not a whole number from 1 (preferred) to 100`,
      );
    }
    result.priority = port.priority;
  }
  return result;
}

function validateDns(dns: string[], field: string): string[] {
  if (!Array.isArray(dns) || dns.length > MAX_DNS_SERVERS) {
    throw invalid(field, `list up to ${MAX_DNS_SERVERS} DNS server addresses`);
  }
  return dns.map((server, i) => {
    address(server, `${field}[${i}]`);
    return server;
  });
}

function validateLanDhcp(dhcp: NonNullable<LanPort['dhcp']>, iface: InterfaceAddress, field: string) {
  const start = address(dhcp.start, `${field}.start`);
  const end = address(dhcp.end, `${field}.end`);
  const { subnet } = iface;
  const usable = (a: number) => blockContains(subnet, a) && a !== subnet.first && a !== subnet.last;
  if (!usable(start) || !usable(end)) {
    throw invalid(
      field,
      `pool ${dhcp.start}-${dhcp.end} must lie inside the host addresses of ${subnet.text}`,
    );
  }
  if (start > end) throw invalid(field, `pool start ${dhcp.start} is after its end ${dhcp.end}`);
  if (iface.address >= start && iface.address <= end) {
    throw invalid(
      field,
      `pool ${dhcp.start}-${dhcp.end} contains the port's own address; leave it out of the pool`,
    );
  }
  if (
    !Number.isInteger(dhcp.leaseMinutes) ||
    dhcp.leaseMinutes < 1 ||
    dhcp.leaseMinutes > MAX_LEASE_MINUTES
  ) {
    throw invalid(
      `${field}.leaseMinutes`,
      `${String(dhcp.leaseMinutes)} is not a whole number from 1 to ${MAX_LEASE_MINUTES}`,
    );
  }
  return { start: dhcp.start, end: dhcp.end, leaseMinutes: dhcp.leaseMinutes };
}

function validateLanPort(
  port: LanPort,
  field: string,
  seen: Set<string>,
): { port: LanPort; iface: InterfaceAddress } {
  const name = validatePortName(port.name, `${field}.name`, seen);
  const iface = parseInterfaceAddress(port.address, `${field}.address`, 8, 30);
  const result: LanPort = { name, address: port.address };
  if (port.dhcp !== undefined) result.dhcp = validateLanDhcp(port.dhcp, iface, `${field}.dhcp`);
  return { port: result, iface };
}

/**
 * A LAN port's address must lie in one of the gateway's private blocks when it has any: those
 * blocks are what the overlay routes to the branch.
 */
export function assertLanInsideBlocks(
  lan: readonly LanPort[],
  privateCidrs: readonly string[],
  field = 'lan',
): void {
  if (privateCidrs.length === 0) return;
  const blocks = privateCidrs.map((cidr) => parseBlock(cidr, 'privateCidrs', { min: 0, max: 32 }));
  lan.forEach((port, i) => {
    const { address: value } = parseInterfaceAddress(port.address, `${field}[${i}].address`, 0, 32);
    if (!blocks.some((block) => blockContains(block, value))) {
      throw invalid(
        `${field}[${i}].address`,
        `LAN port ${port.name} address ${port.address} lies outside the gateway's private CIDR blocks (${privateCidrs.join(', ')})`,
        { value: port.address, privateCidrs },
      );
    }
  });
}

/** Validates a whole port configuration and returns a clean copy holding only known fields. */
export function validatePorts(ports: GatewayPorts, privateCidrs: readonly string[]): GatewayPorts {
  const { wan, lan } = ports;
  if (!Array.isArray(wan) || wan.length < 1 || wan.length > MAX_WAN_PORTS) {
    throw invalid('wan', `a gateway has 1 to ${MAX_WAN_PORTS} WAN ports`);
  }
  if (!Array.isArray(lan) || lan.length > MAX_LAN_PORTS)
    throw invalid('lan', `a gateway has 0 to ${MAX_LAN_PORTS} LAN ports`);
  const seen = new Set<string>();
  const wanPorts = wan.map((port, i) => validateWanPort(port, `wan[${i}]`, seen));
  const lanPorts = lan.map((port, i) => validateLanPort(port, `lan[${i}]`, seen));
  lanPorts.forEach(({ port, iface }, i) => {
    const clash = lanPorts.findIndex((other, j) => j < i && blocksOverlap(other.iface.subnet, iface.subnet));
    if (clash >= 0) {
      throw invalid(
        `lan[${i}].address`,
        `subnet of ${port.name} (${port.address}) overlaps that of ${lanPorts[clash].port.name} (${lanPorts[clash].port.address})`,
      );
    }
  });
  const result = { wan: wanPorts, lan: lanPorts.map(({ port }) => port) };
  assertLanInsideBlocks(result.lan, privateCidrs);
  return result;
}
