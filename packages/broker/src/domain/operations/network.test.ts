import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { fixedContext } from '../../testing/fixedContext.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import type { Ccn, Gateway } from '../types.js';
import { createAcl } from './acl.js';
import { createCcn, unbindCcnGateway } from './ccn.js';
import { createCen, detachFromCen } from './cen.js';
import { createGateway } from './gateway.js';
import { removeGatewayAcl, setGatewayAcl, setNetwork, setPorts } from './network.js';
import { createVpc } from './vpc.js';

function refusal(fn: () => unknown): SagError {
  try {
    fn();
  } catch (err) {
    if (isSagError(err)) return err;
    throw err;
  }
  throw new Error('expected a SagError');
}

describe('setNetwork', () => {
  it('sets blocks, binds the CCN and attaches it to the CEN in one changeset, gateway last', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    applyAndGet(topology, detachFromCen(topology, ctx, cloud.cen, cloud.ccn));
    applyAndGet(topology, unbindCcnGateway(topology, ctx, cloud.ccn, cloud.ningbo));
    const changeset = setNetwork(topology, ctx, cloud.ningbo, {
      privateCidrs: ['172.17.0.0/16', '192.168.10.0/24'],
      ccnId: cloud.ccn,
      cenId: cloud.cen,
    });
    expect(changeset.changes.map((c) => (c.op === 'put' ? [c.kind, c.value.id] : c))).toEqual([
      ['ccn', cloud.ccn],
      ['gateway', cloud.ningbo],
    ]);
    expect(changeset.audit).toMatchObject({ action: 'gateway.network.set', resourceType: 'gateway' });
    expect(changeset.audit.after).toMatchObject({
      privateCidrs: ['172.17.0.0/16', '192.168.10.0/24'],
      ccnId: cloud.ccn,
    });
    expect((changeset.changes[0] as { value: Ccn }).value.cenId).toBe(cloud.cen);
  });

  it('does not rewrite a CCN already attached to the requested CEN', () => {
    const cloud = buildReferenceCloud();
    const changeset = setNetwork(cloud.topology, cloud.ctx, cloud.ningbo, {
      privateCidrs: ['172.18.0.0/16'],
      ccnId: cloud.ccn,
      cenId: cloud.cen,
    });
    expect(changeset.changes.map((c) => c.kind)).toEqual(['gateway']);
  });

  it('refuses the attach when a branch of the CCN overlaps a VPC of the CEN (all or nothing)', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    applyAndGet(topology, detachFromCen(topology, ctx, cloud.cen, cloud.ccn));
    applyAndGet(
      topology,
      setNetwork(topology, ctx, cloud.hangzhou, { privateCidrs: ['10.1.5.0/24'], ccnId: cloud.ccn }),
    );
    const err = refusal(() =>
      setNetwork(topology, ctx, cloud.ningbo, {
        privateCidrs: ['172.17.0.0/16'],
        ccnId: cloud.ccn,
        cenId: cloud.cen,
      }),
    );
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.message).toContain(`10.1.5.0/24 of gateway ${cloud.hangzhou} (Hangzhou branch)`);
    expect(err.message).toContain(`10.1.0.0/16 of VPC ${cloud.shanghaiVpc} (Shanghai VPC)`);
    expect(err.message).toContain(`CEN ${cloud.cen} (Company network)`);
    expect(topology.ccns.get(cloud.ccn)?.cenId).toBeNull();
  });

  it('refuses overlapping blocks of the gateway itself', () => {
    const cloud = buildReferenceCloud();
    const err = refusal(() =>
      setNetwork(cloud.topology, cloud.ctx, cloud.ningbo, {
        privateCidrs: ['172.17.0.0/16', '172.17.8.0/24'],
        ccnId: null,
      }),
    );
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.message).toContain(
      'CIDR 172.17.8.0/24 of gateway sag-2 (Ningbo branch) overlaps its own block 172.17.0.0/16',
    );
  });

  it.each([
    [['172.16.0.0/7'], 'INVALID_CIDR', 'allowed prefixes are /8 to /31'],
    [['172.16.0.1/32'], 'INVALID_CIDR', 'allowed prefixes are /8 to /31'],
    [['172.17.1.0/16'], 'INVALID_CIDR', 'did you mean 172.17.0.0/16?'],
    [['172.17.0.0'], 'INVALID_CIDR', 'privateCidrs[0]'],
    [[], 'INVALID_ARGUMENT', 'at least one private CIDR block'],
  ])('refuses blocks %j with %s', (privateCidrs, code, text) => {
    const cloud = buildReferenceCloud();
    const err = refusal(() =>
      setNetwork(cloud.topology, cloud.ctx, cloud.ningbo, { privateCidrs, ccnId: cloud.ccn }),
    );
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('refuses more blocks than the quota', () => {
    const cloud = buildReferenceCloud();
    const privateCidrs = Array.from({ length: 6 }, (_, i) => `192.168.${i}.0/24`);
    const err = refusal(() =>
      setNetwork(cloud.topology, cloud.ctx, cloud.ningbo, { privateCidrs, ccnId: null }),
    );
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details).toEqual({ quota: 'privateCidrsPerGateway', limit: 5 });
  });

  it('refuses a CCN of another area', () => {
    const cloud = buildReferenceCloud({
      ctx: fixedContext({ enabledAreas: ['china-mainland', 'asia-pacific'] }),
    });
    const { topology, ctx } = cloud;
    const hk = applyAndGet<Ccn>(
      topology,
      createCcn(topology, ctx, { name: 'Hong Kong', area: 'asia-pacific' }),
    );
    const err = refusal(() =>
      setNetwork(topology, ctx, cloud.ningbo, { privateCidrs: ['172.17.0.0/16'], ccnId: hk.id }),
    );
    expect(err.code).toBe('AREA_MISMATCH');
    expect(err.message).toContain(`gateway ${cloud.ningbo} (Ningbo branch) is in area china-mainland`);
    expect(err.message).toContain(`CCN ${hk.id} (Hong Kong) is in asia-pacific`);
  });

  it('refuses a CEN for a CCN attached to another CEN, and a CEN without a CCN', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const other = applyAndGet(topology, createCen(topology, ctx, { name: 'Other network' }));
    const err = refusal(() =>
      setNetwork(topology, ctx, cloud.ningbo, {
        privateCidrs: ['172.17.0.0/16'],
        ccnId: cloud.ccn,
        cenId: other.id,
      }),
    );
    expect(err.code).toBe('ALREADY_BOUND');
    expect(err.message).toContain(
      `CCN ${cloud.ccn} (Branches) is already attached to CEN ${cloud.cen} (Company network)`,
    );
    const noCcn = refusal(() =>
      setNetwork(topology, ctx, cloud.ningbo, {
        privateCidrs: ['172.17.0.0/16'],
        ccnId: null,
        cenId: cloud.cen,
      }),
    );
    expect(noCcn.code).toBe('INVALID_ARGUMENT');
  });

  it('answers NOT_FOUND for unknown gateway, CCN or CEN', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const input = { privateCidrs: ['172.17.0.0/16'], ccnId: cloud.ccn };
    expect(refusal(() => setNetwork(topology, ctx, 'sag-9', input)).message).toBe('gateway sag-9 not found');
    expect(refusal(() => setNetwork(topology, ctx, cloud.ningbo, { ...input, ccnId: 'ccn-9' })).message).toBe(
      'CCN ccn-9 not found',
    );
    applyAndGet(topology, detachFromCen(topology, ctx, cloud.cen, cloud.ccn));
    expect(refusal(() => setNetwork(topology, ctx, cloud.ningbo, { ...input, cenId: 'cen-9' })).message).toBe(
      'CEN cen-9 not found',
    );
  });

  it('moves a gateway between CCNs of its area and can leave it in none', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const second = applyAndGet<Ccn>(
      topology,
      createCcn(topology, ctx, { name: 'Second', area: 'china-mainland' }),
    );
    const moved = applyAndGet<Gateway>(
      topology,
      setNetwork(topology, ctx, cloud.ningbo, { privateCidrs: ['172.17.0.0/16'], ccnId: second.id }),
    );
    expect(moved.ccnId).toBe(second.id);
    const alone = setNetwork(topology, ctx, cloud.ningbo, { privateCidrs: ['172.16.0.0/12'], ccnId: null });
    expect(alone.audit.after).toMatchObject({ ccnId: null, privateCidrs: ['172.16.0.0/12'] });
  });

  it('refuses blocks that would leave a LAN port outside them', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    applyAndGet(
      topology,
      setPorts(topology, ctx, cloud.ningbo, {
        wan: [{ name: 'wan0', mode: 'dhcp' }],
        lan: [{ name: 'lan0', address: '172.17.0.1/24' }],
      }),
    );
    const err = refusal(() =>
      setNetwork(topology, ctx, cloud.ningbo, { privateCidrs: ['172.18.0.0/16'], ccnId: cloud.ccn }),
    );
    expect(err.code).toBe('INVALID_PORTS');
    expect(err.message).toContain('lan0 address 172.17.0.1/24 lies outside');
  });
});

describe('setPorts', () => {
  it('stores validated ports, checking LAN addresses against the private blocks', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const ports = {
      wan: [{ name: 'wan0', mode: 'dhcp' as const }],
      lan: [{ name: 'lan0', address: '172.16.0.1/24' }],
    };
    expect(setPorts(topology, ctx, cloud.hangzhou, ports).audit).toMatchObject({
      action: 'gateway.ports.set',
      after: { ports },
    });
    const err = refusal(() => setPorts(topology, ctx, cloud.ningbo, ports));
    expect(err.code).toBe('INVALID_PORTS');
    expect(err.message).toContain('172.17.0.0/16');
  });

  it('accepts any LAN address while the gateway has no private blocks', () => {
    const topology = buildReferenceCloud().topology;
    const ctx = fixedContext();
    const input = {
      name: 'Lab',
      area: 'china-mainland',
      spec: 'sag-vcpe',
      bandwidthMbps: 10,
      subscriptionMonths: 1,
    };
    const lab = applyAndGet<Gateway>(topology, createGateway(topology, ctx, input));
    const ports = {
      wan: [{ name: 'wan0', mode: 'dhcp' as const }],
      lan: [{ name: 'lan0', address: '192.168.1.1/24' }],
    };
    expect(setPorts(topology, ctx, lab.id, ports).audit.after).toMatchObject({ ports });
  });
});

describe('gateway ACL', () => {
  it('sets, replaces and removes the ACL of a gateway', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const acl = applyAndGet(topology, createAcl(topology, ctx, { name: 'Office' }));
    const set = applyAndGet<Gateway>(
      topology,
      setGatewayAcl(topology, ctx, cloud.hangzhou, { aclId: acl.id }),
    );
    expect(set.aclId).toBe(acl.id);
    expect(removeGatewayAcl(topology, ctx, cloud.hangzhou).audit.after).toMatchObject({ aclId: null });
  });

  it('refuses an unknown ACL and removing an ACL that is not there', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    expect(refusal(() => setGatewayAcl(topology, ctx, cloud.hangzhou, { aclId: 'acl-9' })).message).toBe(
      'ACL acl-9 not found',
    );
    const err = refusal(() => removeGatewayAcl(topology, ctx, cloud.hangzhou));
    expect(err.code).toBe('INVALID_STATE');
    expect(err.message).toContain('Hangzhou branch) has no ACL');
  });
});

describe('VPC created after branches', () => {
  it('can overlap a branch until it is attached to the same CEN', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const input = { name: 'Test VPC', region: 'cn-hangzhou', cidrBlocks: ['172.16.0.0/16'] };
    expect(createVpc(topology, ctx, input).audit.after).toMatchObject({ cidrBlocks: ['172.16.0.0/16'] });
  });
});
