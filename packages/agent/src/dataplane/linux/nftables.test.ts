import { describe, expect, it } from 'vitest';
import type { AclRule } from '../../config.js';
import { sampleConfig } from '../../testing/sampleConfig.js';
import { aclBatch, parseAclListing, planAcl, removeAclBatch, renderAcl, renderAclRule } from './nftables.js';

const rule = (overrides: Partial<AclRule>): AclRule => ({
  id: 'aclr-x',
  direction: 'out',
  policy: 'drop',
  priority: 10,
  protocol: 'tcp',
  sourceCidr: '0.0.0.0/0',
  sourcePortRange: '-1/-1',
  destCidr: '10.1.0.0/16',
  destPortRange: '-1/-1',
  ...overrides,
});

const chain = (text: string, name: string) => {
  const body = text.split(`  chain ${name} {\n`)[1] ?? '';
  return body
    .slice(0, body.indexOf('  }'))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim());
};

describe('renderAclRule', () => {
  it('matches tcp and udp ports, single ports and ranges', () => {
    expect(renderAclRule(rule({ id: 'r1', name: 'deny ssh', destPortRange: '22/22' }))).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 tcp dport 22 drop comment "r1 (deny ssh)"',
    ]);
    expect(
      renderAclRule(
        rule({ protocol: 'udp', sourcePortRange: '1000/2000', destPortRange: '53/53', policy: 'accept' }),
      ),
    ).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 udp sport 1000-2000 udp dport 53 accept comment "aclr-x"',
    ]);
    expect(renderAclRule(rule({}))).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 meta l4proto tcp drop comment "aclr-x"',
    ]);
  });

  it('ignores ports for icmp', () => {
    expect(renderAclRule(rule({ protocol: 'icmp', destPortRange: '22/22' }))).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 meta l4proto icmp drop comment "aclr-x"',
    ]);
  });

  it('matches every protocol for all, and with ports tcp/udp on those ports plus any icmp', () => {
    expect(renderAclRule(rule({ protocol: 'all' }))).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 drop comment "aclr-x"',
    ]);
    expect(renderAclRule(rule({ protocol: 'all', destPortRange: '80/81' }))).toEqual([
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 meta l4proto { tcp, udp } th dport 80-81 drop comment "aclr-x"',
      'ip saddr 0.0.0.0/0 ip daddr 10.1.0.0/16 meta l4proto icmp drop comment "aclr-x"',
    ]);
  });

  it('keeps comments printable', () => {
    expect(renderAclRule(rule({ name: 'say "hi"\\now' }))[0]).toContain('comment "aclr-x (say  hi  now)"');
  });
});

describe('renderAcl', () => {
  it('puts rules in SAG evaluation order (priority, then insertion) per direction', () => {
    const config = sampleConfig({
      aclRules: [
        rule({ id: 'b', priority: 5 }),
        rule({ id: 'in1', direction: 'in', priority: 1, policy: 'accept' }),
        rule({ id: 'a', priority: 1 }),
        rule({ id: 'c', priority: 5 }),
      ],
    });
    const rendered = renderAcl(config);
    expect(rendered.chains).toEqual({ acl_out: ['a', 'b', 'c'], acl_in: ['in1'] });
    expect(chain(rendered.text, 'acl_out').map((l) => /comment "(\w+)"/.exec(l)?.[1])).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('hooks forward LAN → tunnel to acl_out and tunnel → LAN to acl_in, after established flows', () => {
    const text = renderAcl(sampleConfig()).text;
    expect(text.startsWith('table inet opensag {\n  comment "opensag ')).toBe(true);
    expect(chain(text, 'forward')).toEqual([
      'type filter hook forward priority filter; policy accept;',
      'ct state established,related accept',
      'iifname { "lan1" } oifname "sag-wg*" jump acl_out',
      'iifname "sag-wg*" oifname { "lan1" } jump acl_in',
    ]);
    expect(chain(text, 'output')).toContain('oifname "sag-wg*" jump acl_out');
    expect(chain(text, 'input')).toContain('iifname "sag-wg*" jump acl_in');
  });

  it('forwards nothing through the ACL chains when the config has no LAN port', () => {
    const text = renderAcl(sampleConfig({ ports: { wan: [], lan: [] } })).text;
    expect(chain(text, 'forward')).toHaveLength(2);
  });

  it('changes its fingerprint with any rule change', () => {
    const a = renderAcl(sampleConfig());
    const b = renderAcl(sampleConfig({ aclRules: [rule({ destPortRange: '23/23' })] }));
    expect(a.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(renderAcl(sampleConfig()).fingerprint).toBe(a.fingerprint);
  });
});

describe('the nft batch', () => {
  it('creates, deletes and defines the table in one transaction', () => {
    const rendered = renderAcl(sampleConfig());
    const batch = aclBatch(rendered);
    expect(batch).toMatchObject({ cmd: 'nft', args: ['-f', '-'] });
    expect(batch.input).toBe(`add table inet opensag\ndelete table inet opensag\n${rendered.text}`);
    expect(removeAclBatch().input).toBe('add table inet opensag\ndelete table inet opensag\n');
  });
});

describe('planAcl', () => {
  const rendered = renderAcl(sampleConfig());
  const listing = (fingerprint: string, out: string) =>
    `table inet opensag {\n\tcomment "opensag ${fingerprint}"\n\tchain acl_out {\n\t\t${out}\n\t}\n\n\tchain acl_in {\n\t}\n}\n`;

  it('changes nothing when the listed table carries the same fingerprint and rules', () => {
    const installed = parseAclListing(
      listing(rendered.fingerprint, 'ip daddr 10.1.0.0/16 tcp dport 22 drop comment "aclr-1 (deny ssh)"'),
    );
    expect(installed).toEqual({
      fingerprint: rendered.fingerprint,
      chains: { acl_out: ['aclr-1 (deny ssh)'], acl_in: [] },
    });
    expect(planAcl(rendered, installed)).toEqual([]);
  });

  it('replaces a table with another fingerprint or a rule removed by hand', () => {
    expect(
      planAcl(rendered, parseAclListing(listing('0000', 'x comment "aclr-1 (deny ssh)"')))[0].commands,
    ).toEqual([aclBatch(rendered)]);
    expect(planAcl(rendered, parseAclListing(listing(rendered.fingerprint, 'counter')))[0].reason).toBe(
      'nftables chain acl_out holds rules [], want [aclr-1 (deny ssh)]',
    );
    expect(planAcl(rendered, parseAclListing(''))[0].reason).toBe('nftables table inet opensag is missing');
  });

  it('removes the table when nothing is configured, and only then', () => {
    expect(planAcl(null, parseAclListing(listing('ab', '')))[0].commands).toEqual([removeAclBatch()]);
    expect(planAcl(null, null)).toEqual([]);
  });
});
