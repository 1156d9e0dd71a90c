import { describe, expect, it } from 'vitest';
import { fixedContext } from '../testing/fixedContext.js';
import { buildReferenceCloud } from '../testing/referenceCloud.js';
import { applyChanges, applyChangeset, previewChanges } from './apply.js';
import {
  createCcn,
  createCen,
  deleteInstance,
  detachFromCen,
  setNetwork,
  updateGateway,
} from './operations/index.js';
import { type Changeset, emptyTopology, type Topology } from './types.js';

const snapshot = (topology: Topology) => structuredClone(topology);

describe('applyChangeset', () => {
  it('puts and deletes entities in place', () => {
    const topology = emptyTopology();
    const ctx = fixedContext();
    const created = createCen(topology, ctx, { name: 'Core' });
    applyChangeset(topology, created);
    expect(topology.cens.get('cen-1')).toEqual(created.audit.after);
    applyChangeset(topology, {
      changes: [{ op: 'delete', kind: 'cen', id: 'cen-1' }],
      audit: { ...created.audit, action: 'cen.delete' },
    });
    expect(topology.cens.size).toBe(0);
  });

  it('returns changes that restore the topology exactly', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    const before = snapshot(topology);
    const changesets: ((t: Topology) => Changeset)[] = [
      (t) => updateGateway(t, ctx, cloud.hangzhou, { name: 'Hangzhou HQ', bandwidthMbps: 10 }),
      (t) => deleteInstance(t, ctx, cloud.beijingInstance),
      (t) => detachFromCen(t, ctx, cloud.cen, cloud.ccn),
      (t) => createCcn(t, ctx, { name: 'Second', area: 'china-mainland' }),
    ];
    const undo = changesets.map((make) => applyChangeset(topology, make(topology)));
    expect(topology).not.toEqual(before);
    for (const inverse of undo.reverse()) applyChanges(topology, inverse);
    expect(topology).toEqual(before);
  });

  it('undoes a changeset that writes two entities (network with CEN attach)', () => {
    const cloud = buildReferenceCloud();
    const { topology, ctx } = cloud;
    applyChangeset(topology, detachFromCen(topology, ctx, cloud.cen, cloud.ccn));
    const before = snapshot(topology);
    const changeset = setNetwork(topology, ctx, cloud.ningbo, {
      privateCidrs: ['172.18.0.0/16'],
      ccnId: cloud.ccn,
      cenId: cloud.cen,
    });
    expect(changeset.changes.map((c) => c.kind)).toEqual(['ccn', 'gateway']);
    const inverse = applyChangeset(topology, changeset);
    expect(topology.ccns.get(cloud.ccn)?.cenId).toBe(cloud.cen);
    applyChanges(topology, inverse);
    expect(topology).toEqual(before);
  });

  it('restores the first version when one changeset writes an entity twice', () => {
    const topology = emptyTopology();
    const ctx = fixedContext();
    applyChangeset(topology, createCen(topology, ctx, { name: 'Core' }));
    const before = snapshot(topology);
    const original = topology.cens.get('cen-1')!;
    const inverse = applyChanges(topology, [
      { op: 'put', kind: 'cen', value: { ...original, name: 'One' } },
      { op: 'put', kind: 'cen', value: { ...original, name: 'Two' } },
      { op: 'put', kind: 'cen', value: { ...original, id: 'cen-2' } },
    ]);
    expect(topology.cens.get('cen-1')?.name).toBe('Two');
    applyChanges(topology, inverse);
    expect(topology).toEqual(before);
  });
});

describe('previewChanges', () => {
  it('shows the result without touching the topology it was given', () => {
    const cloud = buildReferenceCloud();
    const before = snapshot(cloud.topology);
    const preview = previewChanges(cloud.topology, [{ op: 'delete', kind: 'gateway', id: cloud.hangzhou }]);
    expect(preview.gateways.has(cloud.hangzhou)).toBe(false);
    expect(cloud.topology).toEqual(before);
  });
});
