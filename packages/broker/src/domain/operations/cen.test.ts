import { describe, expect, it } from 'vitest';
import { isSagError, type SagError } from '../../errors.js';
import { applyAndGet, buildReferenceCloud } from '../../testing/referenceCloud.js';
import type { Ccn, Cen, Vpc } from '../types.js';
import { createCcn } from './ccn.js';
import { attachToCen, createCen, deleteCen, detachFromCen, setBandwidthPackages } from './cen.js';
import { createGateway } from './gateway.js';
import { setNetwork } from './network.js';
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

describe('createCen and deleteCen', () => {
  it('creates a CEN without bandwidth packages', () => {
    const { topology, ctx } = buildReferenceCloud();
    expect(createCen(topology, ctx, { name: 'Backup network', description: 'DR' }).audit.after).toMatchObject(
      {
        name: 'Backup network',
        description: 'DR',
        bandwidthPackages: [],
      },
    );
    expect(refusal(() => createCen(topology, ctx, { name: 'X' })).code).toBe('INVALID_NAME');
  });

  it('refuses to delete a CEN with attachments, listing them', () => {
    const { topology, ctx, cen, ccn, shanghaiVpc, beijingVpc } = buildReferenceCloud();
    const err = refusal(() => deleteCen(topology, ctx, cen));
    expect(err.code).toBe('IN_USE');
    expect(err.message).toContain(`has 3 attachment(s) (${ccn}, ${shanghaiVpc}, ${beijingVpc})`);
    for (const id of [ccn, shanghaiVpc, beijingVpc])
      applyAndGet(topology, detachFromCen(topology, ctx, cen, id));
    expect(deleteCen(topology, ctx, cen).audit).toMatchObject({ action: 'cen.delete', after: null });
  });
});

describe('attachToCen', () => {
  it('attaches a VPC; the VPC is the audited entity', () => {
    const { topology, ctx, cen } = buildReferenceCloud();
    const vpc = applyAndGet<Vpc>(
      topology,
      createVpc(topology, ctx, { name: 'Shenzhen VPC', region: 'cn-shenzhen', cidrBlocks: ['10.3.0.0/16'] }),
    );
    const changeset = attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: vpc.id });
    expect(changeset.audit).toMatchObject({ action: 'cen.attach', resourceType: 'vpc', resourceId: vpc.id });
    expect(changeset.audit.after).toMatchObject({ cenId: cen });
  });

  it('refuses a VPC overlapping a branch of the CEN, naming both', () => {
    const { topology, ctx, cen, hangzhou } = buildReferenceCloud();
    const vpc = applyAndGet<Vpc>(
      topology,
      createVpc(topology, ctx, { name: 'Test VPC', region: 'cn-hangzhou', cidrBlocks: ['172.16.4.0/24'] }),
    );
    const err = refusal(() => attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: vpc.id }));
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.message).toBe(
      `CIDR 172.16.4.0/24 of VPC ${vpc.id} (Test VPC) overlaps 172.16.0.0/16 of gateway ${hangzhou} (Hangzhou branch) reachable through CEN ${cen} (Company network); choose blocks that do not overlap`,
    );
  });

  it('refuses a VPC overlapping another VPC of the CEN, even in another area', () => {
    const { topology, ctx, cen, shanghaiVpc } = buildReferenceCloud();
    const vpc = applyAndGet<Vpc>(
      topology,
      createVpc(topology, ctx, { name: 'Sydney VPC', region: 'ap-southeast-2', cidrBlocks: ['10.0.0.0/8'] }),
    );
    const err = refusal(() => attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: vpc.id }));
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.details).toMatchObject({ resourceId: vpc.id, conflictingResourceId: shanghaiVpc, via: cen });
  });

  it('refuses a CCN whose gateways overlap what the CEN holds', () => {
    const { topology, ctx, cen, beijingVpc } = buildReferenceCloud();
    const ccn = applyAndGet<Ccn>(
      topology,
      createCcn(topology, ctx, { name: 'North', area: 'china-mainland' }),
    );
    const input = {
      name: 'Tianjin',
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 5,
      subscriptionMonths: 1,
    };
    const gateway = applyAndGet(topology, createGateway(topology, ctx, input));
    applyAndGet(
      topology,
      setNetwork(topology, ctx, gateway.id, { privateCidrs: ['10.2.200.0/24'], ccnId: ccn.id }),
    );
    const err = refusal(() => attachToCen(topology, ctx, cen, { instanceType: 'ccn', instanceId: ccn.id }));
    expect(err.code).toBe('CIDR_CONFLICT');
    expect(err.message).toContain(`CIDR 10.2.200.0/24 of gateway ${gateway.id} (Tianjin)`);
    expect(err.message).toContain(`10.2.0.0/16 of VPC ${beijingVpc} (Beijing VPC)`);
  });

  it('refuses a CCN or VPC already attached to a CEN, naming it', () => {
    const { topology, ctx, cen, ccn, shanghaiVpc } = buildReferenceCloud();
    const other = applyAndGet<Cen>(topology, createCen(topology, ctx, { name: 'Other network' }));
    const ccnErr = refusal(() =>
      attachToCen(topology, ctx, other.id, { instanceType: 'ccn', instanceId: ccn }),
    );
    expect(ccnErr.code).toBe('ALREADY_BOUND');
    expect(ccnErr.message).toContain(`is already attached to CEN ${cen} (Company network)`);
    const vpcErr = refusal(() =>
      attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: shanghaiVpc }),
    );
    expect(vpcErr.code).toBe('ALREADY_BOUND');
    expect(vpcErr.message).toContain(`VPC ${shanghaiVpc} (Shanghai VPC) is already attached to CEN ${cen}`);
  });

  it('refuses unknown instance types and ids', () => {
    const { topology, ctx, cen } = buildReferenceCloud();
    const type = refusal(() =>
      attachToCen(topology, ctx, cen, { instanceType: 'vbr' as 'vpc', instanceId: 'x' }),
    );
    expect(type.code).toBe('INVALID_ARGUMENT');
    expect(type.message).toContain('use vpc or ccn');
    expect(
      refusal(() => attachToCen(topology, ctx, cen, { instanceType: 'vpc', instanceId: 'vpc-x' })).message,
    ).toBe('VPC vpc-x not found');
    expect(
      refusal(() => attachToCen(topology, ctx, 'cen-x', { instanceType: 'vpc', instanceId: 'vpc-1' })).code,
    ).toBe('NOT_FOUND');
  });
});

describe('detachFromCen', () => {
  it('detaches a CCN or a VPC and refuses what is not attached there', () => {
    const { topology, ctx, cen, ccn, shanghaiVpc } = buildReferenceCloud();
    expect(detachFromCen(topology, ctx, cen, ccn).audit).toMatchObject({
      resourceType: 'ccn',
      after: { cenId: null },
    });
    expect(detachFromCen(topology, ctx, cen, shanghaiVpc).audit).toMatchObject({ resourceType: 'vpc' });
    const other = applyAndGet<Cen>(topology, createCen(topology, ctx, { name: 'Other network' }));
    const err = refusal(() => detachFromCen(topology, ctx, other.id, ccn));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`CCN ${ccn} is not attached to CEN ${other.id} (Other network)`);
  });
});

describe('setBandwidthPackages', () => {
  it('replaces the list, storing each pair sorted', () => {
    const { topology, ctx, cen } = buildReferenceCloud();
    const changeset = setBandwidthPackages(topology, ctx, cen, [
      { areas: ['europe', 'china-mainland'], bandwidthMbps: 100 },
      { areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 10_000 },
    ]);
    expect((changeset.audit.after as Cen).bandwidthPackages).toEqual([
      { areas: ['china-mainland', 'europe'], bandwidthMbps: 100 },
      { areas: ['asia-pacific', 'china-mainland'], bandwidthMbps: 10_000 },
    ]);
    expect(setBandwidthPackages(topology, ctx, cen, []).audit.after).toMatchObject({ bandwidthPackages: [] });
  });

  it.each([
    [[{ areas: ['china-mainland', 'mars'], bandwidthMbps: 10 }], 'INVALID_AREA', '[0].areas[1]: "mars"'],
    [[{ areas: ['europe', 'europe'], bandwidthMbps: 10 }], 'INVALID_ARGUMENT', 'europe twice'],
    [[{ areas: ['europe'], bandwidthMbps: 10 }], 'INVALID_ARGUMENT', 'exactly two areas'],
    [[{ areas: ['europe', 'australia'], bandwidthMbps: 0 }], 'INVALID_ARGUMENT', '1 to 10000'],
    [[{ areas: ['europe', 'australia'], bandwidthMbps: 10_001 }], 'INVALID_ARGUMENT', '1 to 10000'],
    [
      [
        { areas: ['europe', 'australia'], bandwidthMbps: 10 },
        { areas: ['australia', 'europe'], bandwidthMbps: 20 },
      ],
      'INVALID_ARGUMENT',
      'australia <-> europe is listed twice',
    ],
  ])('refuses %j', (packages, code, text) => {
    const { topology, ctx, cen } = buildReferenceCloud();
    const err = refusal(() => setBandwidthPackages(topology, ctx, cen, packages));
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });
});
