import { blocksOverlap, type Ipv4Block, parseInterfaceAddress, parseIpv4 } from '../ipv4.js';

export interface WanPortConfig {
  name: string;
  mode: 'dhcp' | 'static' | 'pppoe';
  /** For static mode: the interface address, with or without a prefix. */
  address?: string;
  gateway?: string;
  dns?: string[];
  priority?: number;
  username?: string;
  password?: string;
}

export interface LanPortConfig {
  name: string;
  /** Interface address with prefix, e.g. 172.16.0.1/24. */
  address: string;
  dhcp?: { start: string; end: string; leaseMinutes: number };
}

export interface DevicePorts {
  wan: WanPortConfig[];
  lan: LanPortConfig[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PORT_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

/** Appends every problem with the WAN/LAN port configuration to `errors`. */
export function validatePorts(value: unknown, errors: string[]): void {
  if (!isRecord(value) || !Array.isArray(value.wan) || !Array.isArray(value.lan)) {
    errors.push('ports: must hold wan and lan lists');
    return;
  }
  const names = new Set<string>();
  const checkName = (name: unknown, field: string) => {
    if (typeof name !== 'string' || !PORT_NAME.test(name))
      errors.push(`${field}.name: "${String(name)}" is not a port name`);
    else if (names.has(name)) errors.push(`${field}.name: ${name} is used by two ports`);
    else names.add(name);
  };
  value.wan.forEach((port, i) => {
    if (!isRecord(port)) errors.push(`ports.wan[${i}]: not an object`);
    else {
      checkName(port.name, `ports.wan[${i}]`);
      validateWan(port, `ports.wan[${i}]`, errors);
    }
  });
  const subnets: { field: string; subnet: Ipv4Block }[] = [];
  value.lan.forEach((port, i) => {
    if (!isRecord(port)) {
      errors.push(`ports.lan[${i}]: not an object`);
      return;
    }
    checkName(port.name, `ports.lan[${i}]`);
    const subnet = validateLan(port, `ports.lan[${i}]`, errors);
    if (!subnet) return;
    const clash = subnets.find((other) => blocksOverlap(other.subnet, subnet));
    if (clash)
      errors.push(
        `ports.lan[${i}].address: subnet ${subnet.text} overlaps ${clash.subnet.text} of ${clash.field}`,
      );
    subnets.push({ field: `ports.lan[${i}]`, subnet });
  });
}

function validateWan(port: Record<string, unknown>, field: string, errors: string[]): void {
  if (port.mode !== 'dhcp' && port.mode !== 'static' && port.mode !== 'pppoe') {
    errors.push(`${field}.mode: "${String(port.mode)}" is not dhcp, static or pppoe`);
  }
  if (port.mode === 'static') {
    const address =
      typeof port.address === 'string' && port.address.includes('/')
        ? parseInterfaceAddress(port.address)
        : parseIpv4(port.address);
    if (address === null)
      errors.push(
        `${field}.address: "${String(port.address)}" is not an IPv4 address (static mode needs one)`,
      );
    if (parseIpv4(port.gateway) === null)
      errors.push(
        `${field}.gateway: "${String(port.gateway)}" is not an IPv4 address (static mode needs one)`,
      );
  }
  if (port.mode === 'pppoe' && (typeof port.username !== 'string' || port.username === '')) {
    errors.push(`${field}.username: pppoe mode needs a username`);
  }
  if (port.dns !== undefined) {
    if (!Array.isArray(port.dns)) errors.push(`${field}.dns: not a list`);
    else {
      port.dns.forEach((dns, j) => {
        if (parseIpv4(dns) === null)
          errors.push(`${field}.dns[${j}]: "${String(dns)}" is not an IPv4 address`);
      });
    }
  }
  if (
    port.priority !== undefined &&
    (!Number.isSafeInteger(port.priority) || (port.priority as number) < 0)
  ) {
    errors.push(`${field}.priority: ${String(port.priority)} is not a non-negative integer`);
  }
}

/** Returns the LAN's connected subnet when its address is usable. */
function validateLan(port: Record<string, unknown>, field: string, errors: string[]): Ipv4Block | null {
  const parsed = parseInterfaceAddress(port.address);
  if (!parsed || parsed.subnet.prefix < 8 || parsed.subnet.prefix > 30) {
    errors.push(
      `${field}.address: "${String(port.address)}" is not an interface address such as 172.16.0.1/24 (prefix /8 to /30)`,
    );
    return null;
  }
  const { address, subnet } = parsed;
  if (address === subnet.first || address === subnet.last) {
    errors.push(
      `${field}.address: ${String(port.address)} is the network or broadcast address of ${subnet.text}`,
    );
    return null;
  }
  if (port.dhcp !== undefined) validateDhcp(port.dhcp, address, subnet, `${field}.dhcp`, errors);
  return subnet;
}

function validateDhcp(
  dhcp: unknown,
  address: number,
  subnet: Ipv4Block,
  field: string,
  errors: string[],
): void {
  if (!isRecord(dhcp)) {
    errors.push(`${field}: not an object`);
    return;
  }
  const start = parseIpv4(dhcp.start);
  const end = parseIpv4(dhcp.end);
  const inside = (ip: number) => ip > subnet.first && ip < subnet.last;
  if (start === null || !inside(start))
    errors.push(`${field}.start: "${String(dhcp.start)}" is not a host address in ${subnet.text}`);
  if (end === null || !inside(end))
    errors.push(`${field}.end: "${String(dhcp.end)}" is not a host address in ${subnet.text}`);
  if (start !== null && end !== null && inside(start) && inside(end)) {
    if (start > end)
      errors.push(`${field}: pool start ${String(dhcp.start)} is after its end ${String(dhcp.end)}`);
    else if (address >= start && address <= end)
      errors.push(
        `${field}: the pool ${String(dhcp.start)}-${String(dhcp.end)} contains the port's own address`,
      );
  }
  if (!Number.isSafeInteger(dhcp.leaseMinutes) || (dhcp.leaseMinutes as number) < 1) {
    errors.push(`${field}.leaseMinutes: ${String(dhcp.leaseMinutes)} is not a positive integer`);
  }
}
