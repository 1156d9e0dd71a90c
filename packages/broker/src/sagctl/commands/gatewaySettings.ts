import type { Static } from '@sinclair/typebox';
import type { ProbeAnswer, ProbeRequest } from '../../api/probes.js';
import type { Gateway, GatewayAclBinding, GatewayNetwork } from '../../api/schemas/gateways.js';
import { type CommandSpec, done, pathOf, show } from '../command.js';
import { keyValues } from '../table.js';
import { deviceFromFlags } from './deviceIdentity.js';
import { LAN_FORMS, portsFromFlags, WAN_FORMS } from './gatewayPorts.js';
import { gatewayView, rounded } from './gatewayViews.js';

/** What an operator sets on a gateway after ordering it (tutorial steps 2 and 4), and live probes. */

const ID = ['GATEWAY_ID'];

const bindDevice: CommandSpec = {
  name: 'bind-device',
  summary: 'bind the device made when it was flashed (step 2); the gateway becomes "shipped"',
  args: ID,
  flags: {
    serial: { type: 'string', value: 'SN', description: 'the device serial number' },
    'public-key': {
      type: 'string',
      value: 'KEY',
      description: 'standard base64 of its raw Ed25519 public key',
    },
    identity: {
      type: 'string',
      value: 'FILE',
      description: 'the JSON printed by `sag-agent init` (or its state directory) instead of the two above',
    },
  },
  examples: [
    'sag-agent init --serial SAGHZ0001 --state-dir ./hz > hz.json',
    'sagctl gateway bind-device sag-8f2a1c --identity hz.json',
    'sagctl gateway bind-device sag-8f2a1c --serial SAGHZ0001 --public-key "q2x...="',
  ],
  async run(ctx) {
    const body = deviceFromFlags(ctx.flags);
    show(ctx, await ctx.api.put<Gateway>(pathOf('gateways', ctx.args[0], 'device'), body), gatewayView);
  },
};

const unbindDevice: CommandSpec = {
  name: 'unbind-device',
  summary: 'unbind the device; it is disconnected',
  args: ID,
  examples: ['sagctl gateway unbind-device sag-8f2a1c'],
  async run(ctx) {
    await ctx.api.delete(pathOf('gateways', ctx.args[0], 'device'));
    done(ctx, `unbound the device of gateway ${ctx.args[0]}`);
  },
};

const ports: CommandSpec = {
  name: 'ports',
  summary: 'replace the WAN and LAN port configuration',
  args: ID,
  flags: {
    wan: { type: 'string', multiple: true, value: 'PORT', description: `repeatable: ${WAN_FORMS}` },
    lan: { type: 'string', multiple: true, value: 'PORT', description: `repeatable: ${LAN_FORMS}` },
    file: {
      type: 'string',
      value: 'FILE',
      description: 'the {"wan": [...], "lan": [...]} body as JSON instead',
    },
  },
  details: `A LAN DHCP pool without a lease gets 1440 minutes. DNS servers and WAN priorities: use --file.`,
  examples: [
    'sagctl gateway ports sag-8f2a1c --wan wan0:dhcp --lan lan0:172.16.0.1/24:172.16.0.100-172.16.0.200',
    'sagctl gateway ports sag-8f2a1c --file ports.json',
  ],
  async run(ctx) {
    const body = portsFromFlags(ctx.flags);
    show(ctx, await ctx.api.put<Gateway>(pathOf('gateways', ctx.args[0], 'ports'), body), gatewayView);
  },
};

const network: CommandSpec = {
  name: 'network',
  summary: 'set the private CIDR blocks and the CCN, optionally attaching the CCN to a CEN (step 4)',
  args: ID,
  flags: {
    cidr: {
      type: 'string',
      multiple: true,
      value: 'CIDR',
      required: true,
      description: 'repeatable, 1-5 blocks',
    },
    ccn: { type: 'string', value: 'CCN_ID', required: true, description: 'the CCN to bind to, or "none"' },
    cen: {
      type: 'string',
      value: 'CEN_ID',
      description: 'also attach the CCN to this CEN, in the same change',
    },
  },
  details: 'All or nothing: on CIDR_CONFLICT (or any error) nothing changes.',
  examples: ['sagctl gateway network sag-8f2a1c --cidr 172.16.0.0/16 --ccn ccn-77c0d1 --cen cen-3b9e42'],
  async run(ctx) {
    const ccn = ctx.flags.text('ccn');
    const body: GatewayNetwork = {
      privateCidrs: ctx.flags.list('cidr'),
      ccnId: ccn === 'none' ? null : ccn,
      cenId: ctx.flags.optionalText('cen'),
    };
    show(ctx, await ctx.api.put<Gateway>(pathOf('gateways', ctx.args[0], 'network'), body), gatewayView);
  },
};

const acl: CommandSpec = {
  name: 'acl',
  summary: "apply an ACL to the gateway (replacing its ACL), or remove the gateway's ACL",
  args: ID,
  flags: {
    acl: { type: 'string', value: 'ACL_ID', description: 'the ACL to apply' },
    remove: { type: 'boolean', description: 'remove the ACL the gateway has' },
  },
  examples: ['sagctl gateway acl sag-8f2a1c --acl acl-2b3c4d', 'sagctl gateway acl sag-8f2a1c --remove'],
  async run(ctx) {
    const { name, value } = ctx.flags.oneOf(['acl', 'remove']);
    const path = pathOf('gateways', ctx.args[0], 'acl');
    if (name === 'remove') {
      await ctx.api.delete(path);
      return done(ctx, `removed the ACL of gateway ${ctx.args[0]}`);
    }
    const body: GatewayAclBinding = { aclId: value };
    show(ctx, await ctx.api.put<Gateway>(path, body), gatewayView);
  },
};

type ProbeResult = Static<typeof ProbeAnswer>;

const probe: CommandSpec = {
  name: 'probe',
  summary: "ask the gateway's device to test a destination over its tunnel (the device must be online)",
  args: ID,
  flags: {
    destination: { type: 'string', value: 'IP', required: true, description: 'address to test' },
    protocol: { type: 'string', value: 'PROTO', required: true, description: 'tcp, udp or icmp' },
    port: { type: 'string', value: 'PORT', description: 'destination port, for tcp and udp' },
  },
  examples: ['sagctl gateway probe sag-8f2a1c --destination 10.1.0.10 --protocol tcp --port 22'],
  async run(ctx) {
    const body: ProbeRequest = {
      destination: ctx.flags.text('destination'),
      protocol: ctx.flags.text('protocol') as ProbeRequest['protocol'],
      port: ctx.flags.optionalInteger('port'),
    };
    const answer = await ctx.api.post<ProbeResult>(pathOf('gateways', ctx.args[0], 'probes'), body);
    show(ctx, answer, probeView);
  },
};

function probeView(answer: ProbeResult): string {
  return keyValues([
    ['result', answer.reachable ? 'REACHABLE' : 'UNREACHABLE'],
    ['reason', answer.reason],
    ['rtt ms', rounded(answer.rttMs)],
    ['seen by', answer.seenBy],
  ]);
}

export const gatewaySettingCommands = [bindDevice, unbindDevice, ports, network, acl, probe];
