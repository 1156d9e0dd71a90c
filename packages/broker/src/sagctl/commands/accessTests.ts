import type { AccessTestRequest, AccessTestResult } from '../../api/schemas/accessTests.js';
import type { Flags } from '../args.js';
import { type CommandSpec, show } from '../command.js';
import { table } from '../table.js';

/** Tutorial step 6: would this traffic get through, and if not, which hop stops it. */

export const HOP_COLUMNS = ['kind', 'resource', 'verdict', 'reason'];

export function accessView(result: AccessTestResult): string {
  const verdict = result.reachable ? 'REACHABLE' : 'UNREACHABLE';
  const hops = table(
    HOP_COLUMNS,
    result.hops.map((h) => [h.kind, h.resourceId, h.verdict, h.reason]),
  );
  return `${verdict}: ${result.reason}\n\n${hops}`;
}

function sourceOf(flags: Flags): AccessTestRequest['source'] {
  if (flags.has('from-instance')) {
    if (flags.has('from-gateway') || flags.has('from-ip')) {
      throw flags.usage('give --from-instance or --from-gateway with --from-ip, not both');
    }
    return { instanceId: flags.text('from-instance') };
  }
  if (!flags.has('from-gateway') || !flags.has('from-ip')) {
    throw flags.usage('give --from-gateway ID with --from-ip IP (a branch client), or --from-instance ID');
  }
  return { gatewayId: flags.text('from-gateway'), ip: flags.text('from-ip') };
}

function destinationOf(flags: Flags): AccessTestRequest['destination'] {
  const { name, value } = flags.oneOf(['to-ip', 'to-instance']);
  return name === 'to-ip' ? { ip: value } : { instanceId: value };
}

export const accessTestCommand: CommandSpec = {
  name: 'access-test',
  summary: 'walk the path from a branch client or instance to an address or instance, and say why',
  flags: {
    'from-gateway': { type: 'string', value: 'GATEWAY_ID', description: 'source branch (with --from-ip)' },
    'from-ip': { type: 'string', value: 'IP', description: 'source address in that branch' },
    'from-instance': { type: 'string', value: 'INSTANCE_ID', description: 'or a VPC instance as the source' },
    'to-ip': { type: 'string', value: 'IP', description: 'destination address' },
    'to-instance': {
      type: 'string',
      value: 'INSTANCE_ID',
      description: 'or a VPC instance as the destination',
    },
    protocol: { type: 'string', value: 'PROTO', required: true, description: 'tcp, udp or icmp' },
    port: { type: 'string', value: 'PORT', description: 'destination port, for tcp and udp' },
  },
  details:
    'Prints REACHABLE or UNREACHABLE with the reason (the first blocking hop), then every hop checked. ' +
    'The exit status is 0 either way; scripts read "reachable" from --json.',
  examples: [
    'sagctl access-test --from-gateway sag-8f2a1c --from-ip 172.16.0.10 --to-instance i-5d6e7f --protocol tcp --port 22',
  ],
  async run(ctx) {
    const body: AccessTestRequest = {
      source: sourceOf(ctx.flags),
      destination: destinationOf(ctx.flags),
      protocol: ctx.flags.text('protocol') as AccessTestRequest['protocol'],
      port: ctx.flags.optionalInteger('port'),
    };
    show(ctx, await ctx.api.post<AccessTestResult>('/access-tests', body), accessView);
  },
};
