import { createHash } from 'node:crypto';
import { inEvaluationOrder, parsePortRange } from '@opensag/proto';
import type { AclRule, DeviceConfig } from '../../config.js';
import type { Change, Command } from './runner.js';
import { TUNNEL_INTERFACE_PREFIX } from './wireguardNames.js';

/** The one nftables table the gateway ACL lives in; nothing else in the ruleset is touched. */
export const ACL_TABLE = 'inet opensag';

export interface RenderedAcl {
  /** The `table inet opensag { … }` definition. */
  text: string;
  /** sha256 of `text`, stored as the table's comment so a read-back can tell it is current. */
  fingerprint: string;
  /** Comment of each rule in acl_out / acl_in, in order, for the read-back. */
  chains: { acl_out: string[]; acl_in: string[] };
}

const TUNNELS = `"${TUNNEL_INTERFACE_PREFIX}*"`;

function quote(text: string): string {
  // nft comments are double-quoted strings without escapes; keep them printable and short.
  return `"${text.replace(/["\\\n\r\t]/g, ' ').slice(0, 120)}"`;
}

function ruleComment(rule: AclRule): string {
  return rule.name ? `${rule.id} (${rule.name})` : rule.id;
}

function ports(field: 'sport' | 'dport', range: string, prefix: string): string[] {
  const parsed = parsePortRange(range);
  if (!parsed || parsed.any) return [];
  const value = parsed.from === parsed.to ? `${parsed.from}` : `${parsed.from}-${parsed.to}`;
  return [`${prefix} ${field} ${value}`];
}

/**
 * The nft statements for one SAG rule. tcp/udp match ports; icmp ignores them; `all` with a port
 * range matches tcp and udp on those ports and any icmp, as `aclRuleMatches` in @opensag/proto does.
 */
export function renderAclRule(rule: AclRule): string[] {
  const addresses = `ip saddr ${rule.sourceCidr} ip daddr ${rule.destCidr}`;
  const verdict = `${rule.policy} comment ${quote(ruleComment(rule))}`;
  const portMatch = (prefix: string) => [
    ...ports('sport', rule.sourcePortRange, prefix),
    ...ports('dport', rule.destPortRange, prefix),
  ];
  const line = (...parts: string[]) => parts.filter((p) => p !== '').join(' ');
  switch (rule.protocol) {
    case 'icmp':
      return [line(addresses, 'meta l4proto icmp', verdict)];
    case 'tcp':
    case 'udp': {
      // `tcp dport 22` implies the protocol; nft lists it without a separate l4proto match.
      const withPorts = portMatch(rule.protocol);
      return [
        line(addresses, withPorts.length === 0 ? `meta l4proto ${rule.protocol}` : '', ...withPorts, verdict),
      ];
    }
    case 'all': {
      const withPorts = portMatch('th');
      if (withPorts.length === 0) return [line(addresses, verdict)];
      return [
        line(addresses, 'meta l4proto { tcp, udp }', ...withPorts, verdict),
        line(addresses, 'meta l4proto icmp', verdict),
      ];
    }
  }
}

function lanSet(config: DeviceConfig | null): string | null {
  const names = config?.ports.lan.map((port) => `"${port.name}"`) ?? [];
  return names.length === 0 ? null : `{ ${names.join(', ')} }`;
}

function baseChain(name: string, hook: string, jumps: string[]): string[] {
  return [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    // A flow is judged by its first packet in its own direction, like the broker's access analysis.
    '    ct state established,related accept',
    ...jumps.map((jump) => `    ${jump}`),
    '  }',
  ];
}

/**
 * The gateway ACL as one nftables table. `out` is branch LAN → tunnel (forwarded, and the box's own
 * traffic into a tunnel, e.g. probes); `in` is tunnel → branch LAN (and to the box itself). Rules
 * keep SAG evaluation order; the first match decides; no match falls through to policy accept.
 */
export function renderAcl(config: DeviceConfig | null): RenderedAcl {
  const rules = inEvaluationOrder(config?.aclRules ?? []);
  const chainOf = (direction: 'in' | 'out') => rules.filter((r) => r.direction === direction);
  const out = chainOf('out').flatMap((rule) => renderAclRule(rule).map((text) => ({ text, rule })));
  const inbound = chainOf('in').flatMap((rule) => renderAclRule(rule).map((text) => ({ text, rule })));
  const lans = lanSet(config);
  const forwardJumps = lans
    ? [`iifname ${lans} oifname ${TUNNELS} jump acl_out`, `iifname ${TUNNELS} oifname ${lans} jump acl_in`]
    : [];
  const body = [
    ...baseChain('forward', 'forward', forwardJumps),
    ...baseChain('output', 'output', [`oifname ${TUNNELS} jump acl_out`]),
    ...baseChain('input', 'input', [`iifname ${TUNNELS} jump acl_in`]),
    '  chain acl_out {',
    ...out.map(({ text }) => `    ${text}`),
    '  }',
    '  chain acl_in {',
    ...inbound.map(({ text }) => `    ${text}`),
    '  }',
  ].join('\n');
  const fingerprint = createHash('sha256').update(body).digest('hex').slice(0, 32);
  return {
    text: `table ${ACL_TABLE} {\n  comment "opensag ${fingerprint}"\n${body}\n}\n`,
    fingerprint,
    chains: {
      acl_out: out.map(({ rule }) => quote(ruleComment(rule)).slice(1, -1)),
      acl_in: inbound.map(({ rule }) => quote(ruleComment(rule)).slice(1, -1)),
    },
  };
}

/** One `nft -f -` transaction: create-if-missing, delete, and define, so the swap is atomic. */
export function aclBatch(rendered: RenderedAcl): Command {
  return {
    cmd: 'nft',
    args: ['-f', '-'],
    input: `add table ${ACL_TABLE}\ndelete table ${ACL_TABLE}\n${rendered.text}`,
  };
}

export function removeAclBatch(): Command {
  return { cmd: 'nft', args: ['-f', '-'], input: `add table ${ACL_TABLE}\ndelete table ${ACL_TABLE}\n` };
}

/** What `nft list table inet opensag` shows, reduced to what the read-back compares. */
export interface InstalledAcl {
  fingerprint: string | null;
  chains: Record<string, string[]>;
}

/** Parses `nft list table inet opensag` text; null for empty output (no table). */
export function parseAclListing(text: string): InstalledAcl | null {
  if (!/^table inet opensag \{/m.test(text)) return null;
  const fingerprint = /^\s*comment "opensag ([0-9a-f]+)"/m.exec(text)?.[1] ?? null;
  const chains: Record<string, string[]> = {};
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const chain = /^\s*chain (\S+) \{/.exec(line);
    if (chain) {
      current = chains[chain[1]] = [];
      continue;
    }
    if (/^\s*\}/.test(line)) current = null;
    else if (current) {
      const comment = /comment "([^"]*)"\s*$/.exec(line);
      if (comment) current.push(comment[1]);
    }
  }
  return { fingerprint, chains };
}

/** The change that brings the installed table to `rendered` (none when it already matches). */
export function planAcl(rendered: RenderedAcl | null, installed: InstalledAcl | null): Change[] {
  if (rendered === null) {
    return installed
      ? [
          {
            reason: `nftables table ${ACL_TABLE} is installed but not configured`,
            commands: [removeAclBatch()],
          },
        ]
      : [];
  }
  const reason = aclDifference(rendered, installed);
  return reason ? [{ reason, commands: [aclBatch(rendered)] }] : [];
}

function aclDifference(rendered: RenderedAcl, installed: InstalledAcl | null): string | null {
  if (!installed) return `nftables table ${ACL_TABLE} is missing`;
  if (installed.fingerprint !== rendered.fingerprint) {
    return `nftables table ${ACL_TABLE} holds ruleset ${installed.fingerprint ?? '(unmarked)'}, want ${rendered.fingerprint}`;
  }
  for (const chain of ['acl_out', 'acl_in'] as const) {
    const have = installed.chains[chain] ?? [];
    if (have.join('\n') !== rendered.chains[chain].join('\n')) {
      return `nftables chain ${chain} holds rules [${have.join(', ')}], want [${rendered.chains[chain].join(', ')}]`;
    }
  }
  return null;
}
