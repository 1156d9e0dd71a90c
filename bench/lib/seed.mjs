// The benchmark fleet, laid out so that one mutation changes every gateway's config while each
// config stays small: gateways with no private blocks (none are needed to join a CCN) in CCNs of
// CCN_SIZE, all attached to one CEN with one VPC. Attaching a second VPC to that CEN adds one
// route to every gateway; detaching it takes the route away again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CCN_SIZE = 500;
const AREA = 'china-mainland';

/** Creates (or, when `dir`/seed.json matches, reuses) the fleet for these identities. */
export async function seedFleet({ call, dir, identities, concurrency, progress }) {
  const file = join(dir, 'seed.json');
  if (existsSync(file)) {
    const seeded = JSON.parse(readFileSync(file, 'utf8'));
    if (seeded.count === identities.length) return { ...seeded, reused: true, elapsedMs: 0 };
  }
  const startedAt = performance.now();
  const cen = await call('POST', '/cens', { name: 'bench-cen' });
  const baseVpc = await call('POST', '/vpcs', {
    name: 'bench-base',
    region: 'cn-shanghai',
    cidrBlocks: ['10.0.0.0/16'],
  });
  await call('POST', `/cens/${cen.id}/attachments`, { instanceType: 'vpc', instanceId: baseVpc.id });
  // Created now, attached and detached by the convergence rounds.
  const toggleVpc = await call('POST', '/vpcs', {
    name: 'bench-toggle',
    region: 'cn-shanghai',
    cidrBlocks: ['10.1.0.0/16'],
  });
  const ccnIds = [];
  for (let c = 0; c * CCN_SIZE < identities.length; c++) {
    const ccn = await call('POST', '/ccns', { name: `bench-ccn-${c}`, area: AREA });
    await call('POST', `/cens/${cen.id}/attachments`, { instanceType: 'ccn', instanceId: ccn.id });
    ccnIds.push(ccn.id);
  }
  const gateways = {};
  let next = 0;
  let done = 0;
  const ticker = setInterval(() => progress?.(`seed: ${done}/${identities.length} gateways`), 2000);
  const worker = async () => {
    while (next < identities.length) {
      const i = next++;
      const { serialNumber, publicKey } = identities[i];
      const gateway = await call('POST', '/gateways', {
        name: `bench ${serialNumber}`,
        area: AREA,
        spec: 'sag-100wm',
        bandwidthMbps: 2,
        subscriptionMonths: 12,
      });
      await call('PUT', `/gateways/${gateway.id}/device`, { serialNumber, publicKey });
      await call('POST', `/ccns/${ccnIds[Math.floor(i / CCN_SIZE)]}/gateways`, { gatewayId: gateway.id });
      await call('POST', `/gateways/${gateway.id}/activate`, {});
      gateways[serialNumber] = gateway.id;
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  const seeded = { count: identities.length, cenId: cen.id, toggleVpcId: toggleVpc.id, ccnIds, gateways };
  writeFileSync(file, JSON.stringify(seeded));
  return { ...seeded, reused: false, elapsedMs: performance.now() - startedAt };
}
