import { evaluateAcl } from '@opensag/proto';
import type { AclRule } from '../../config.js';
import { parseIpv4 } from '../../ipv4.js';
import { describeTraffic, type PathProbe, type PathProbeResult } from '../dataplane.js';
import type { CommandRunner } from './runner.js';
import type { TcpConnect } from './tcpConnect.js';

export const PROBE_TIMEOUT_MS = 2000;

export interface ProbeContext {
  runner: CommandRunner;
  tcpConnect: TcpConnect;
  aclRules: readonly AclRule[];
  /** The branch-side address probes leave from (first LAN port), when there is one. */
  defaultSource?: string;
  /** Which access point each tunnel interface leads to, to name it in the answer. */
  tunnelOf: (dev: string) => string | undefined;
}

/** The interface the kernel would send the probe out of, or a reason there is none. */
async function routeDevice(
  ctx: ProbeContext,
  destination: string,
  source?: string,
): Promise<{ dev?: string; error?: string }> {
  const result = await ctx.runner('ip', [
    '-json',
    'route',
    'get',
    destination,
    ...(source ? ['from', source] : []),
  ]);
  if (result.code !== 0) return { error: result.stderr.trim() || `no route to ${destination}` };
  const [route] = JSON.parse(result.stdout) as { dev?: string }[];
  return { dev: route?.dev };
}

/** Why a failed probe failed as far as the installed ACL can tell. */
function aclNote(ctx: ProbeContext, request: PathProbe, source: string | undefined, traffic: string): string {
  const verdict = evaluateAcl(ctx.aclRules, {
    direction: 'out',
    protocol: request.protocol,
    sourceIp: source ?? '0.0.0.0',
    destIp: request.destination,
    destPort: request.port,
  });
  if (verdict.policy !== 'drop') return '';
  const rule = verdict.rule
    ? `ACL rule ${verdict.rule.id}${verdict.rule.name ? ` (${verdict.rule.name})` : ''}`
    : 'the ACL';
  return `; ${rule} drops ${traffic}`;
}

async function ping(
  ctx: ProbeContext,
  destination: string,
  source?: string,
): Promise<{ ok: boolean; rttMs?: number; detail: string }> {
  const result = await ctx.runner('ping', [
    '-n',
    '-c',
    '1',
    '-W',
    '1',
    ...(source ? ['-I', source] : []),
    destination,
  ]);
  const rtt = /time[=<]([\d.]+) ms/.exec(result.stdout);
  if (result.code === 0) return { ok: true, ...(rtt ? { rttMs: Number(rtt[1]) } : {}), detail: '' };
  return { ok: false, detail: result.stderr.trim().split('\n')[0] || 'no echo reply within 1 s' };
}

/**
 * Sends real packets from the gateway: one ICMP echo (ping) or one TCP connect, from the LAN
 * address so the reply comes back through the tunnel. UDP has no answer to wait for, so a UDP
 * probe reports only whether a route leads into a tunnel.
 */
export async function probePath(ctx: ProbeContext, request: PathProbe): Promise<PathProbeResult> {
  const traffic = describeTraffic(request);
  if (parseIpv4(request.destination) === null) {
    return { reachable: false, reason: `destination "${request.destination}" is not an IPv4 address` };
  }
  const source = request.source ?? ctx.defaultSource;
  const route = await routeDevice(ctx, request.destination, source);
  if (!route.dev)
    return { reachable: false, reason: `no route to ${request.destination}: ${route.error ?? 'none'}` };
  const accessPoint = ctx.tunnelOf(route.dev);
  const via = `via ${route.dev}${accessPoint ? ` (tunnel to ${accessPoint})` : ''}`;
  const from = source ? ` from ${source}` : '';
  if (request.protocol === 'icmp') {
    const answer = await ping(ctx, request.destination, source);
    if (answer.ok)
      return {
        reachable: true,
        ...(answer.rttMs !== undefined ? { rttMs: answer.rttMs } : {}),
        reason: `${traffic}${from} answered ${via}`,
      };
    return {
      reachable: false,
      reason: `${traffic}${from} got no answer ${via} (${answer.detail})${aclNote(ctx, request, source, traffic)}`,
    };
  }
  if (request.port === undefined)
    return { reachable: false, reason: `a ${request.protocol} probe needs a port` };
  if (request.protocol === 'udp') {
    const dropped = aclNote(ctx, request, source, traffic);
    return dropped
      ? { reachable: false, reason: `${traffic} would leave ${via}${dropped.replace(';', ', but')}` }
      : {
          reachable: true,
          reason: `${traffic} leaves ${via} (UDP is not answered, so only the route and ACL are checked)`,
        };
  }
  const result = await ctx.tcpConnect({
    destination: request.destination,
    port: request.port,
    source,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  if (result.connected)
    return {
      reachable: true,
      ...(result.rttMs !== undefined ? { rttMs: result.rttMs } : {}),
      reason: `${traffic}${from} connected ${via}`,
    };
  const why =
    result.error === 'ETIMEDOUT' ? `no answer within ${PROBE_TIMEOUT_MS} ms` : (result.error ?? 'failed');
  return {
    reachable: false,
    reason: `${traffic}${from} failed ${via}: ${why}${aclNote(ctx, request, source, traffic)}`,
  };
}
