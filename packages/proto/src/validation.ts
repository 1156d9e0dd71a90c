import { parsePortRange } from './acl.js';
import { ProtocolError } from './errors.js';
import {
  ACK_RESULTS,
  ACL_DIRECTIONS,
  ACL_POLICIES,
  ACL_PROTOCOLS,
  type Ack,
  AGENT_ROLES,
  AGENT_STATES,
  type Command,
  DATAPLANES,
  type DesiredConfig,
  type EdgeSettingsMessage,
  EVENT_KINDS,
  type Event,
  type Hello,
  LINK_STATES,
  NEXT_HOPS,
  PORT_KINDS,
  type PortStatus,
  PRESENCE_STATES,
  PROBE_PROTOCOLS,
  type Presence,
  type ProbeResult,
  type Report,
  ROUTE_SOURCE_KINDS,
  SECURITY_GROUP_DIRECTIONS,
  TUNNEL_ROLES,
  WAN_MODES,
} from './messages.js';

/** Bounds on what a peer may send; a device is never trusted to be reasonable. */
export const LIMITS = {
  maxPayloadBytes: 1024 * 1024,
  maxStringLength: 4096,
  maxRepeated: 10_000,
  /**
   * The highest config revision a device may report. The broker reissues a config above a
   * device's revision, so a claim near 2^53 would leave no exact revision to count up to.
   */
  maxDeviceRevision: 2 ** 48,
  /** The latest instant a JavaScript Date holds (Unix ms): device clocks beyond it are invalid. */
  maxTimestampMs: 8.64e15,
} as const;

/**
 * `text` cut to what one string field of a message carries (`LIMITS.maxStringLength`), ending with
 * `…` and then `note` when cut, so a long error or reason still goes out instead of failing to
 * encode.
 */
export function fitString(text: string, note = ''): string {
  if (text.length <= LIMITS.maxStringLength) return text;
  const tail = `…${note}`;
  return `${text.slice(0, LIMITS.maxStringLength - tail.length)}${tail}`;
}

/** Message fields that may be absent (null); every other sub-message must be present. */
const OPTIONAL_MESSAGES = new Set(['dhcp', 'probeResult', 'edge']);

function invalid(message: string, path: string, problem: string): never {
  throw new ProtocolError('INVALID_FIELD', `${message} field ${path} ${problem}`, path);
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * Bounds every string, repeated field and number of a decoded message, and insists that required
 * sub-messages are present. Runs over the plain object, so it covers fields added later for free.
 */
export function checkShape(message: string, value: unknown, path = ''): void {
  if (typeof value === 'string') {
    if (value.length > LIMITS.maxStringLength) {
      invalid(message, path, `is ${value.length} characters; the limit is ${LIMITS.maxStringLength}`);
    }
  } else if (typeof value === 'number') {
    // uint64 values past 2^53 lose precision as numbers; no counter or revision gets there honestly.
    if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      invalid(message, path, `is ${value}; expected a finite number below 2^53`);
    }
  } else if (Array.isArray(value)) {
    if (value.length > LIMITS.maxRepeated) {
      invalid(message, path, `has ${value.length} entries; the limit is ${LIMITS.maxRepeated}`);
    }
    for (const [index, item] of value.entries()) checkShape(message, item, `${path}[${index}]`);
  } else if (value === null) {
    const key = path.slice(path.lastIndexOf('.') + 1);
    if (!OPTIONAL_MESSAGES.has(key)) invalid(message, path, 'is missing');
  } else if (typeof value === 'object') {
    for (const key of Object.keys(value)) {
      checkShape(message, (value as Record<string, unknown>)[key], join(path, key));
    }
  }
}

function oneOf(message: string, path: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    invalid(message, path, `is ${describe(value)}; expected one of ${allowed.join(', ')}`);
  }
}

function inRange(message: string, path: string, value: number, min: number, max: number): void {
  if (value < min || value > max) invalid(message, path, `is ${value}; expected ${min}–${max}`);
}

function present(message: string, path: string, value: string): void {
  if (value === '') invalid(message, path, 'is empty');
}

function checkPorts(message: string, path: string, ports: PortStatus[]): void {
  for (const [i, port] of ports.entries()) {
    const at = `${path}[${i}]`;
    oneOf(message, `${at}.kind`, port.kind, PORT_KINDS);
    oneOf(message, `${at}.state`, port.state, LINK_STATES);
    if (port.mode !== '') oneOf(message, `${at}.mode`, port.mode, WAN_MODES);
  }
}

export function checkHello(m: Hello): void {
  inRange('Hello', 'appliedRevision', m.appliedRevision, 0, LIMITS.maxDeviceRevision);
  oneOf('Hello', 'state', m.state, AGENT_STATES);
  oneOf('Hello', 'dataplane', m.dataplane, DATAPLANES);
  oneOf('Hello', 'role', m.role, AGENT_ROLES);
  checkPorts('Hello', 'ports', m.ports);
}

export function checkReport(m: Report): void {
  inRange('Report', 'appliedRevision', m.appliedRevision, 0, LIMITS.maxDeviceRevision);
  for (const [i, tunnel] of m.tunnels.entries()) {
    const at = `tunnels[${i}]`;
    oneOf('Report', `${at}.role`, tunnel.role, TUNNEL_ROLES);
    oneOf('Report', `${at}.state`, tunnel.state, LINK_STATES);
    inRange('Report', `${at}.lossPct`, tunnel.lossPct, 0, 100);
    inRange('Report', `${at}.rttMs`, tunnel.rttMs, 0, Number.MAX_SAFE_INTEGER);
    inRange('Report', `${at}.jitterMs`, tunnel.jitterMs, 0, Number.MAX_SAFE_INTEGER);
  }
  checkPorts('Report', 'ports', m.ports);
}

export function checkAck(m: Ack): void {
  oneOf('Ack', 'result', m.result, ACK_RESULTS);
  inRange('Ack', 'revision', m.revision, 0, LIMITS.maxDeviceRevision);
}

const TUNNEL_EVENTS = new Set(['TUNNEL_UP', 'TUNNEL_DOWN', 'FAILOVER', 'FAILBACK']);

export function checkEvent(m: Event): void {
  oneOf('Event', 'kind', m.kind, EVENT_KINDS);
  inRange('Event', 'atMs', m.atMs, 0, LIMITS.maxTimestampMs);
  if (TUNNEL_EVENTS.has(m.kind)) present('Event', 'accessPoint', m.accessPoint);
  if (m.kind === 'PROBE_RESULT') {
    if (m.probeResult === null) invalid('Event', 'probeResult', 'is missing from a PROBE_RESULT event');
    checkProbeResult(m.probeResult, 'Event', 'probeResult.');
  }
}

export function checkPresence(m: Presence): void {
  oneOf('Presence', 'state', m.state, PRESENCE_STATES);
}

export function checkProbeResult(m: ProbeResult, message = 'ProbeResult', prefix = ''): void {
  present(message, `${prefix}probeId`, m.probeId);
  inRange(message, `${prefix}rttMs`, m.rttMs, 0, Number.MAX_SAFE_INTEGER);
}

export function checkDesiredConfig(m: DesiredConfig): void {
  const msg = 'DesiredConfig';
  inRange(msg, 'revision', m.revision, 1, Number.MAX_SAFE_INTEGER);
  present(msg, 'gatewayId', m.gatewayId);
  for (const [i, port] of m.ports.wan.entries()) oneOf(msg, `ports.wan[${i}].mode`, port.mode, WAN_MODES);
  for (const [i, tunnel] of m.tunnels.entries()) oneOf(msg, `tunnels[${i}].role`, tunnel.role, TUNNEL_ROLES);
  // Zero here would make the keepalive spin or never declare a tunnel down.
  inRange(msg, 'keepalive.intervalMs', m.keepalive.intervalMs, 1, Number.MAX_SAFE_INTEGER);
  inRange(msg, 'keepalive.multiplier', m.keepalive.multiplier, 1, Number.MAX_SAFE_INTEGER);
  inRange(msg, 'keepalive.lossWindow', m.keepalive.lossWindow, 1, Number.MAX_SAFE_INTEGER);
  for (const [i, route] of m.routes.entries()) {
    oneOf(msg, `routes[${i}].nextHop`, route.nextHop, NEXT_HOPS);
    oneOf(msg, `routes[${i}].sourceKind`, route.sourceKind, ROUTE_SOURCE_KINDS);
  }
  for (const [i, rule] of m.aclRules.entries()) {
    const at = `aclRules[${i}]`;
    oneOf(msg, `${at}.direction`, rule.direction, ACL_DIRECTIONS);
    oneOf(msg, `${at}.policy`, rule.policy, ACL_POLICIES);
    oneOf(msg, `${at}.protocol`, rule.protocol, ACL_PROTOCOLS);
    inRange(msg, `${at}.priority`, rule.priority, 1, 100);
    // A malformed range would silently never match, making a drop rule ineffective.
    for (const key of ['sourcePortRange', 'destPortRange'] as const) {
      if (parsePortRange(rule[key]) === null) {
        invalid(msg, `${at}.${key}`, `is ${describe(rule[key])}; expected a/b (1–65535) or -1/-1`);
      }
    }
  }
  if (m.edge) checkEdgeSettings(msg, m.edge);
}

function checkEdgeSettings(msg: string, edge: EdgeSettingsMessage): void {
  inRange(msg, 'edge.listenPort', edge.listenPort, 1, 65535);
  for (const [g, group] of edge.securityGroups.entries()) {
    present(msg, `edge.securityGroups[${g}].id`, group.id);
    for (const [r, rule] of group.rules.entries()) {
      const at = `edge.securityGroups[${g}].rules[${r}]`;
      oneOf(msg, `${at}.direction`, rule.direction, SECURITY_GROUP_DIRECTIONS);
      oneOf(msg, `${at}.policy`, rule.policy, ACL_POLICIES);
      oneOf(msg, `${at}.protocol`, rule.protocol, ACL_PROTOCOLS);
      inRange(msg, `${at}.priority`, rule.priority, 1, 100);
      if (parsePortRange(rule.portRange) === null) {
        invalid(msg, `${at}.portRange`, `is ${describe(rule.portRange)}; expected a/b (1–65535) or -1/-1`);
      }
    }
  }
}

export function checkCommand(m: Command): void {
  present('Command', 'commandId', m.commandId);
  switch (m.payload) {
    case 'activation':
      present('Command', 'activation.gatewayId', m.activation.gatewayId);
      break;
    case 'probeRequest':
      present('Command', 'probeRequest.probeId', m.probeRequest.probeId);
      oneOf('Command', 'probeRequest.protocol', m.probeRequest.protocol, PROBE_PROTOCOLS);
      inRange('Command', 'probeRequest.port', m.probeRequest.port, 0, 65535);
      break;
    case 'reboot':
    case 'resync':
      break;
    default:
      invalid('Command', 'payload', 'is missing; expected activation, probeRequest, reboot or resync');
  }
}
