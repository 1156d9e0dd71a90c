import { ipInCidr } from '@opensag/proto';
import { parseAddress } from '../domain/cidr.js';
import type { Gateway, Instance, Topology, Vpc } from '../domain/types.js';
import { SagError } from '../errors.js';
import {
  aclHop,
  block,
  branchAddressHop,
  type DeviceLookup,
  describeGateway,
  describeService,
  deviceHop,
  gatewayStateHop,
  pass,
  securityGroupHop,
  type Traffic,
} from './accessHops.js';
import { routesLearnedByGateway, routesLearnedByVpc } from './routes.js';
import type { AccessAnswer, AccessHop, AccessRequest, AreaOfRegion } from './types.js';

/**
 * The access test (SPEC §3): walks the path from a branch address or a VPC instance to an address
 * or instance, hop by hop. Every hop that can be judged is judged, so one answer shows every
 * obstacle; the answer's reason is the first blocking hop.
 */

type Source =
  | { kind: 'gateway'; gateway: Gateway; ip: string }
  | { kind: 'instance'; instance: Instance; vpc: Vpc };
type Target =
  | { kind: 'gateway'; gateway: Gateway }
  | { kind: 'vpc'; vpc: Vpc; instance: Instance | undefined }
  | { kind: 'none' };

function notFound(resourceType: string, id: string): SagError {
  const label = resourceType === 'vpc' ? 'VPC' : resourceType;
  return new SagError('NOT_FOUND', `${label} ${id} not found`, { resourceType, resourceId: id });
}

function resolveSource(topology: Topology, request: AccessRequest): Source {
  const source = request.source;
  if ('gatewayId' in source) {
    const gateway = topology.gateways.get(source.gatewayId);
    if (!gateway) throw notFound('gateway', source.gatewayId);
    parseAddress(source.ip, 'source.ip');
    return { kind: 'gateway', gateway, ip: source.ip };
  }
  const instance = topology.instances.get(source.instanceId);
  if (!instance) throw notFound('instance', source.instanceId);
  const vpc = topology.vpcs.get(instance.vpcId);
  if (!vpc) throw notFound('vpc', instance.vpcId);
  return { kind: 'instance', instance, vpc };
}

function sourceIp(source: Source): string {
  return source.kind === 'gateway' ? source.ip : source.instance.privateIp;
}

/** The CEN the source's network is attached to, if any. */
function sourceCenId(topology: Topology, source: Source): string | null {
  if (source.kind === 'instance') return source.vpc.cenId;
  const ccn = source.gateway.ccnId ? topology.ccns.get(source.gateway.ccnId) : undefined;
  return ccn?.cenId ?? null;
}

function targetCenId(topology: Topology, target: Target): string | null {
  if (target.kind === 'vpc') return target.vpc.cenId;
  if (target.kind === 'none' || !target.gateway.ccnId) return null;
  return topology.ccns.get(target.gateway.ccnId)?.cenId ?? null;
}

/** Lower is closer: the address most likely meant is the one the source can route to. */
function closeness(topology: Topology, source: Source, target: Target): number {
  if (target.kind === 'none') return 9;
  if (source.kind === 'gateway' && target.kind === 'gateway') {
    if (target.gateway.id === source.gateway.id) return 0;
    if (source.gateway.ccnId && target.gateway.ccnId === source.gateway.ccnId) return 1;
  }
  if (source.kind === 'instance' && target.kind === 'vpc' && target.vpc.id === source.vpc.id) return 0;
  const cenId = sourceCenId(topology, source);
  return cenId && targetCenId(topology, target) === cenId ? 2 : 3;
}

function resolveTarget(
  topology: Topology,
  request: AccessRequest,
  source: Source,
): { target: Target; ip: string } {
  const destination = request.destination;
  if ('instanceId' in destination) {
    const instance = topology.instances.get(destination.instanceId);
    if (!instance) throw notFound('instance', destination.instanceId);
    const vpc = topology.vpcs.get(instance.vpcId);
    if (!vpc) throw notFound('vpc', instance.vpcId);
    return { target: { kind: 'vpc', vpc, instance }, ip: instance.privateIp };
  }
  const ip = destination.ip;
  parseAddress(ip, 'destination.ip');
  const candidates: Target[] = [];
  for (const gateway of topology.gateways.values()) {
    if (gateway.privateCidrs.some((cidr) => ipInCidr(ip, cidr)))
      candidates.push({ kind: 'gateway', gateway });
  }
  for (const vpc of topology.vpcs.values()) {
    if (!vpc.cidrBlocks.some((cidr) => ipInCidr(ip, cidr))) continue;
    const instance = [...topology.instances.values()].find((i) => i.vpcId === vpc.id && i.privateIp === ip);
    candidates.push({ kind: 'vpc', vpc, instance });
  }
  const ranked = candidates
    .map((target) => ({ target, rank: closeness(topology, source, target) }))
    .sort((a, b) => a.rank - b.rank || (targetId(a.target) < targetId(b.target) ? -1 : 1));
  return { target: ranked[0]?.target ?? { kind: 'none' }, ip };
}

function targetId(target: Target): string {
  if (target.kind === 'gateway') return target.gateway.id;
  return target.kind === 'vpc' ? target.vpc.id : '';
}

function describeTarget(target: Target, ip: string): string {
  if (target.kind === 'gateway') return `${ip} behind ${describeGateway(target.gateway)}`;
  if (target.kind === 'none') return ip;
  const where = `vpc ${target.vpc.id} (${target.vpc.name})`;
  return target.instance
    ? `instance ${target.instance.id} (${target.instance.name}) ${ip} in ${where}`
    : `${ip} in ${where}`;
}

function describeSource(source: Source): string {
  if (source.kind === 'gateway') return `${source.ip} behind ${describeGateway(source.gateway)}`;
  return `instance ${source.instance.id} (${source.instance.name}) ${source.instance.privateIp}`;
}

interface Walk {
  topology: Topology;
  source: Source;
  target: Target;
  traffic: Traffic;
  areaOfRegion: AreaOfRegion;
}

/** CCN binding, CEN attachment and route state: stops at the first of these that blocks. */
function pathHops(walk: Walk): AccessHop[] {
  const { topology, source, target } = walk;
  const hops: AccessHop[] = [];
  if (source.kind === 'gateway') {
    const gateway = source.gateway;
    const ccn = gateway.ccnId ? topology.ccns.get(gateway.ccnId) : undefined;
    if (!ccn)
      return [
        block('ccn', gateway.id, `${describeGateway(gateway)} is not bound to a CCN, so it has no routes`),
      ];
    if (target.kind === 'gateway' && target.gateway.ccnId === ccn.id) {
      return [
        pass('ccn', ccn.id, `${gateway.id} and ${target.gateway.id} are both in CCN ${ccn.id} (${ccn.name})`),
      ];
    }
    hops.push(pass('ccn', ccn.id, `${describeGateway(gateway)} is bound to CCN ${ccn.id} (${ccn.name})`));
  } else if (target.kind === 'vpc' && target.vpc.id === source.vpc.id) {
    return [pass('vpc', source.vpc.id, `both ends are in vpc ${source.vpc.id} (${source.vpc.name})`)];
  }
  const cenHop = cenAttachmentHop(walk);
  hops.push(cenHop);
  if (cenHop.verdict === 'block') return hops;
  hops.push(routeHop(walk));
  return hops;
}

function networkOf(topology: Topology, source: Source): { id: string; text: string } {
  if (source.kind === 'instance')
    return { id: source.vpc.id, text: `vpc ${source.vpc.id} (${source.vpc.name})` };
  const ccn = topology.ccns.get(source.gateway.ccnId!)!;
  return { id: ccn.id, text: `CCN ${ccn.id} (${ccn.name})` };
}

function cenAttachmentHop({ topology, source, target, traffic }: Walk): AccessHop {
  const network = networkOf(topology, source);
  if (target.kind === 'none') {
    return block(
      'route',
      network.id,
      `no route to ${traffic.destIp}: no gateway or VPC has a block containing it`,
    );
  }
  const cenId = sourceCenId(topology, source);
  const cen = cenId ? topology.cens.get(cenId) : undefined;
  const targetText =
    target.kind === 'vpc' ? `vpc ${target.vpc.id} (${target.vpc.name})` : describeGateway(target.gateway);
  if (!cen) {
    return block(
      'cen',
      network.id,
      `${network.text} is not attached to a CEN, so it cannot reach ${targetText}`,
    );
  }
  if (targetCenId(topology, target) !== cen.id) {
    const what = target.kind === 'gateway' ? `the CCN of ${targetText}` : targetText;
    return block('cen', cen.id, `${what} is not attached to CEN ${cen.id} (${cen.name})`);
  }
  return pass(
    'cen',
    cen.id,
    `${network.text} and ${targetText} are both attached to CEN ${cen.id} (${cen.name})`,
  );
}

/** The route the source's side learned for the destination, as the CEN route table shows it. */
function routeHop({ topology, source, target, traffic, areaOfRegion }: Walk): AccessHop {
  const learnerId = source.kind === 'gateway' ? source.gateway.id : source.vpc.id;
  const learned =
    source.kind === 'gateway'
      ? routesLearnedByGateway(topology, learnerId, areaOfRegion)
      : routesLearnedByVpc(topology, learnerId, areaOfRegion);
  const route = learned.find(
    (entry) => entry.sourceResourceId === targetId(target) && ipInCidr(traffic.destIp, entry.destination),
  );
  if (!route) {
    return block('route', learnerId, `${learnerId} learns no route to ${traffic.destIp}`);
  }
  const text = `route ${route.destination} from ${route.sourceResourceId} on ${learnerId}`;
  if (route.state === 'inactive') return block('route', learnerId, `${text} is inactive: ${route.reason}`);
  return pass('route', learnerId, `${text} is active`);
}

function sourceHops(walk: Walk, devices: DeviceLookup, now: Date): AccessHop[] {
  const { topology, source, traffic } = walk;
  if (source.kind === 'instance') return [securityGroupHop(topology, source.instance, 'egress', traffic)];
  return [
    gatewayStateHop(source.gateway, now),
    deviceHop(source.gateway, devices),
    branchAddressHop(source.gateway, source.ip),
    aclHop(topology, source.gateway, 'out', traffic),
  ];
}

function targetHops(walk: Walk, devices: DeviceLookup, now: Date): AccessHop[] {
  const { topology, target, traffic } = walk;
  if (target.kind === 'none') return [];
  if (target.kind === 'gateway') {
    return [
      gatewayStateHop(target.gateway, now),
      deviceHop(target.gateway, devices),
      aclHop(topology, target.gateway, 'in', traffic),
    ];
  }
  if (target.instance) return [securityGroupHop(topology, target.instance, 'ingress', traffic)];
  return [
    block(
      'destination',
      target.vpc.id,
      `no instance in vpc ${target.vpc.id} (${target.vpc.name}) has ${traffic.destIp}`,
    ),
  ];
}

/** Traffic to another address of the branch itself never crosses the gateway. */
function staysOnBranch(source: Source, target: Target): boolean {
  return source.kind === 'gateway' && target.kind === 'gateway' && target.gateway.id === source.gateway.id;
}

/** The access test as the API receives it, plus the clock reading that decides expiry. */
export type TimedAccessRequest = AccessRequest & { now: Date };

export function analyzeAccess(
  topology: Topology,
  devices: DeviceLookup,
  request: TimedAccessRequest,
  areaOfRegion: AreaOfRegion,
): AccessAnswer {
  const now = request.now;
  const source = resolveSource(topology, request);
  const { target, ip } = resolveTarget(topology, request, source);
  const traffic: Traffic = {
    protocol: request.protocol,
    port: request.port,
    sourceIp: sourceIp(source),
    destIp: ip,
  };
  const service = describeService(traffic);
  if (staysOnBranch(source, target)) {
    const gateway = (source as { gateway: Gateway }).gateway;
    const reason = `${ip} is inside a block of ${describeGateway(gateway)}: ${service} stays on the branch LAN`;
    return { reachable: true, reason, hops: [pass('route', gateway.id, reason)] };
  }
  const walk: Walk = { topology, source, target, traffic, areaOfRegion };
  const hops = [...sourceHops(walk, devices, now), ...pathHops(walk), ...targetHops(walk, devices, now)];
  const blocking = hops.find((hop) => hop.verdict === 'block');
  if (blocking) return { reachable: false, reason: blocking.reason, hops };
  const reason = `${describeSource(source)} reaches ${describeTarget(target, ip)} over ${service}`;
  return { reachable: true, reason, hops };
}

export type { DeviceLookup } from './accessHops.js';
export type { AccessAnswer as AccessResult, AccessHop, AccessRequest } from './types.js';
