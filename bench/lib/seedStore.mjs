// The same fleet as seed.mjs, written in one commit through the broker's own SQLite store while
// the broker is stopped: provisioning 10,000 gateways through the API takes many minutes, as each
// bind or activation recompiles its CEN's gateways (see docs/performance.md). The broker compiles
// every gateway when it starts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../packages/broker/dist/store/sqlite.js';
import { CCN_SIZE } from './seed.mjs';

const AREA = 'china-mainland';

export function seedThroughStore({ dir, dataDir, identities }) {
  const file = join(dir, 'seed.json');
  if (existsSync(file)) {
    const seeded = JSON.parse(readFileSync(file, 'utf8'));
    if (seeded.count === identities.length) return { ...seeded, reused: true, elapsedMs: 0 };
  }
  const startedAt = performance.now();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const now = new Date();
  const at = now.toISOString();
  const expiresAt = new Date(now.getTime() + 365 * 86_400_000).toISOString();
  const put = (kind, value) => ({ op: 'put', kind, value });
  const cenId = 'cen-bench';
  const toggleVpcId = 'vpc-bench-toggle';
  const changes = [
    put('cen', { id: cenId, name: 'bench-cen', bandwidthPackages: [], createdAt: at }),
    put('vpc', {
      id: 'vpc-bench-base',
      name: 'bench-base',
      region: 'cn-shanghai',
      cidrBlocks: ['10.0.0.0/16'],
      cenId,
      createdAt: at,
    }),
    put('vpc', {
      id: toggleVpcId,
      name: 'bench-toggle',
      region: 'cn-shanghai',
      cidrBlocks: ['10.1.0.0/16'],
      cenId: null,
      createdAt: at,
    }),
  ];
  const ccnIds = [];
  for (let c = 0; c * CCN_SIZE < identities.length; c++) {
    const id = `ccn-bench${c}`;
    ccnIds.push(id);
    changes.push(put('ccn', { id, name: `bench-ccn-${c}`, area: AREA, cenId, createdAt: at }));
  }
  const gateways = {};
  identities.forEach(({ serialNumber, publicKey }, i) => {
    const id = `sag-b${String(i).padStart(6, '0')}`;
    gateways[serialNumber] = id;
    changes.push(
      put('gateway', {
        id,
        name: `bench ${serialNumber}`,
        area: AREA,
        spec: 'sag-100wm',
        bandwidthMbps: 2,
        subscriptionMonths: 12,
        createdAt: at,
        lifecycle: 'active',
        serialNumber,
        publicKey,
        activatedAt: at,
        expiresAt,
        privateCidrs: [],
        ccnId: ccnIds[Math.floor(i / CCN_SIZE)],
        aclId: null,
        ports: { wan: [{ name: 'wan0', mode: 'dhcp' }], lan: [] },
      }),
    );
  });
  const store = openSqliteStore(join(dataDir, 'opensag.db'));
  try {
    store.commit({
      changeset: {
        changes,
        audit: { action: 'bench.seed', resourceType: 'cen', resourceId: cenId, before: null, after: null },
      },
      actor: 'bench',
      at: now,
      configs: [],
      removedConfigs: [],
    });
  } finally {
    store.close();
  }
  const seeded = { count: identities.length, cenId, toggleVpcId, ccnIds, gateways };
  writeFileSync(file, JSON.stringify(seeded));
  return { ...seeded, reused: false, elapsedMs: performance.now() - startedAt };
}
