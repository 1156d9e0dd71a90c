// The reference scenario's cloud side (SPEC §2), driven over the HTTP API. Used by `npm run lab`
// and by the end-to-end tests, so both walk exactly the same steps.
import { generateKeyPairSync } from 'node:crypto';

/** A minimal API client: throws with the API's own error message on any non-2xx answer. */
export function apiClient(baseUrl, token) {
  async function call(method, path, body) {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error(
        `${method} ${path} → ${response.status} ${data?.error?.code}: ${data?.error?.message}`,
      );
      error.status = response.status;
      error.body = data;
      throw error;
    }
    return data;
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body = {}) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    delete: (path) => call('DELETE', path),
  };
}

/** A device identity as `sag-agent init` makes it: serial number and raw Ed25519 public key. */
export function deviceIdentity(serialNumber) {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { serialNumber, publicKey: raw.toString('base64') };
}

export const BRANCHES = [
  { name: 'Hangzhou branch', cidr: '172.16.0.0/16', client: '172.16.0.10', serial: 'SAGHZ0001' },
  { name: 'Ningbo branch', cidr: '172.17.0.0/16', client: '172.17.0.10', serial: 'SAGNB0001' },
];

export const VPCS = [
  { name: 'Shanghai VPC', region: 'cn-shanghai', cidr: '10.1.0.0/16', instanceIp: '10.1.0.10' },
  { name: 'Beijing VPC', region: 'cn-beijing', cidr: '10.2.0.0/16', instanceIp: '10.2.0.10' },
];

/** Step 1: buy a gateway for each branch. */
export async function createGateways(api, ids, say = () => {}) {
  ids.gateways = [];
  for (const branch of BRANCHES) {
    const gateway = await api.post('/v1/gateways', {
      name: branch.name,
      area: 'china-mainland',
      spec: 'sag-100wm',
      bandwidthMbps: 2,
      subscriptionMonths: 1,
    });
    ids.gateways.push(gateway.id);
    say(
      1,
      `created gateway ${gateway.id} "${branch.name}" (sag-100wm, 2 Mbps, 1 month): ${gateway.lifecycle}`,
    );
  }
}

/** Step 2: bind each branch's device (serial + public key from `sag-agent init`). */
export async function bindDevices(api, ids, devices = {}, say = () => {}) {
  for (const [index, branch] of BRANCHES.entries()) {
    const id = ids.gateways[index];
    const device = devices[branch.serial] ?? deviceIdentity(branch.serial);
    const bound = await api.put(`/v1/gateways/${id}/device`, device);
    say(2, `bound device ${device.serialNumber} to ${id}: ${bound.lifecycle}`);
  }
}

/** Step 3: activate both gateways. */
export async function activateGateways(api, ids, say = () => {}) {
  for (const id of ids.gateways) {
    const active = await api.post(`/v1/gateways/${id}/activate`);
    say(3, `activated ${id}: ${active.lifecycle}, expires ${active.expiresAt}`);
  }
}

/** Step 4: the VPCs in a CEN, the branches' private blocks, one CCN attached to that CEN. */
export async function configureNetwork(api, ids, say = () => {}) {
  ids.vpcs = [];
  const cen = await api.post('/v1/cens', { name: 'Company CEN' });
  for (const vpc of VPCS) {
    const created = await api.post('/v1/vpcs', {
      name: vpc.name,
      region: vpc.region,
      cidrBlocks: [vpc.cidr],
    });
    ids.vpcs.push(created.id);
    await api.post(`/v1/cens/${cen.id}/attachments`, { instanceType: 'vpc', instanceId: created.id });
    say(4, `VPC ${created.id} ${vpc.name} ${vpc.cidr} (${vpc.region}) attached to ${cen.id}`);
  }
  const ccn = await api.post('/v1/ccns', { name: 'Branches CCN', area: 'china-mainland' });
  for (const [index, branch] of BRANCHES.entries()) {
    const id = ids.gateways[index];
    await api.put(`/v1/gateways/${id}/network`, {
      privateCidrs: [branch.cidr],
      ccnId: ccn.id,
      cenId: cen.id,
    });
    say(
      4,
      `${branch.name}: private block ${branch.cidr}, bound to ${ccn.id}, ${ccn.id} attached to ${cen.id}`,
    );
  }
  ids.cen = cen.id;
  ids.ccn = ccn.id;
}

/** The cloud side's servers: one instance in each VPC, each in a security group of its own. */
export async function createInstances(api, ids, say = () => {}) {
  ids.instances = [];
  ids.securityGroups = [];
  for (const [index, vpc] of VPCS.entries()) {
    const group = await api.post('/v1/security-groups', {
      name: `${vpc.name} servers`,
      vpcId: ids.vpcs[index],
    });
    ids.securityGroups.push(group.id);
    const instance = await api.post('/v1/instances', {
      name: `${vpc.name} server`,
      vpcId: ids.vpcs[index],
      privateIp: vpc.instanceIp,
      securityGroupIds: [group.id],
    });
    ids.instances.push(instance.id);
    say(5, `instance ${instance.id} ${vpc.instanceIp} in ${ids.vpcs[index]}, security group ${group.id}`);
  }
}

/** Steps 1–4 and the instances, in order, for callers that need no pause between them. */
export async function applyCloudScenario(api, { devices = {}, say = () => {} } = {}) {
  const ids = {};
  await createGateways(api, ids, say);
  await bindDevices(api, ids, devices, say);
  await activateGateways(api, ids, say);
  await configureNetwork(api, ids, say);
  await createInstances(api, ids, say);
  return ids;
}

/** Step 5 proper: authorize both branch blocks on every VPC security group. */
export async function authorizeBranches(api, ids, say = () => {}) {
  for (const groupId of ids.securityGroups) {
    for (const branch of BRANCHES) {
      await api.post(`/v1/security-groups/${groupId}/rules`, {
        direction: 'ingress',
        policy: 'accept',
        priority: 1,
        protocol: 'all',
        portRange: '-1/-1',
        cidr: branch.cidr,
        description: `${branch.name} clients`,
      });
      say(5, `security group ${groupId}: ingress accept all from ${branch.cidr}`);
    }
  }
}

/** Step 6: the access test from each branch client to each VPC instance. */
export async function accessMatrix(api, ids, { protocol = 'tcp', port = 22 } = {}) {
  const results = [];
  for (const [g, branch] of BRANCHES.entries()) {
    for (const [v, vpc] of VPCS.entries()) {
      const answer = await api.post('/v1/access-tests', {
        source: { gatewayId: ids.gateways[g], ip: branch.client },
        destination: { instanceId: ids.instances[v] },
        protocol,
        ...(protocol === 'icmp' ? {} : { port }),
      });
      results.push({ from: branch.name, to: vpc.name, ...answer });
    }
  }
  return results;
}

/** Polls `check` until it returns something truthy; resolves with it. */
export async function until(what, check, timeoutMs = 60_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until both gateways' devices are online (connected, waiting or running). */
export async function waitOnline(api, ids, say = () => {}) {
  for (const id of ids.gateways) {
    await until(
      `${id} online`,
      async () => (await api.get(`/v1/gateways/${id}/status`)).presence === 'online',
    );
    say(2, `${id}: device connected, waiting for activation`);
  }
}

/** Waits for both devices to apply what the last step changed; `since` is when it was sent. */
export async function waitInSync(api, ids, stepNumber, since, say = () => {}) {
  for (const id of ids.gateways) {
    const status = await until(`${id} in sync`, async () => {
      const answer = await api.get(`/v1/gateways/${id}/status`);
      return answer.sync === 'in-sync' && answer.appliedRevision !== null ? answer : null;
    });
    const ms = Date.now() - since;
    say(
      stepNumber,
      `${id}: device applied config revision ${status.appliedRevision} (in sync ${ms} ms after the change)`,
    );
  }
}

export function verdict(result) {
  return result.reachable ? 'reachable' : `unreachable: ${result.reason}`;
}

/**
 * Steps 5 and 6 as a person checks them: the servers, the access test before and after the
 * security-group rule, branch to branch, and a live probe answered by the Hangzhou device.
 */
export async function securityAndAccess(api, ids, say = () => {}) {
  await createInstances(api, ids, say);
  for (const result of await accessMatrix(api, ids)) {
    say(6, `before the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  await authorizeBranches(api, ids, say);
  for (const result of await accessMatrix(api, ids)) {
    say(6, `after the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  const branchToBranch = await api.post('/v1/access-tests', {
    source: { gatewayId: ids.gateways[0], ip: BRANCHES[0].client },
    destination: { ip: BRANCHES[1].client },
    protocol: 'icmp',
  });
  say(6, `${BRANCHES[0].name} → ${BRANCHES[1].name} icmp: ${verdict(branchToBranch)}`);
  const probe = await api.post(`/v1/gateways/${ids.gateways[0]}/probes`, {
    destination: VPCS[0].instanceIp,
    protocol: 'tcp',
    port: 22,
  });
  say(6, `live probe from device ${probe.seenBy} to ${VPCS[0].instanceIp} tcp/22: ${verdict(probe)}`);
}
