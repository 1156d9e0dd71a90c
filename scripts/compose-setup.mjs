#!/usr/bin/env node
// The Docker lab's one-shot `setup` job: binds the device identities flashed into the branch state
// volumes, then walks the reference scenario (SPEC §2) over the HTTP API, the same steps as
// `npm run lab`, while the two branch agents run in their own containers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accessMatrix,
  activateGateways,
  apiClient,
  authorizeBranches,
  BRANCHES,
  bindDevices,
  configureNetwork,
  createGateways,
  createInstances,
  VPCS,
} from './scenario.mjs';

const HELP = `Usage: node scripts/compose-setup.mjs STATE_DIR...

Reads identity.json from each device state directory (made by sag-agent init), binds the
Hangzhou (SAGHZ0001) and Ningbo (SAGNB0001) devices to new gateways and walks the reference
scenario, waiting for each device to apply its config. Does nothing if both gateways exist.

Environment: SAG_API_URL (default http://broker:8080), SAG_API_TOKEN (required),
SAG_LAB_HTTP_PORT (the API's port on the Docker host, for the closing message; default 8080).
`;

const step = (n, text) => console.log(`step ${n}: ${text}`);
const verdict = (result) => (result.reachable ? 'reachable' : `unreachable: ${result.reason}`);

/** The identities `sag-agent init` left in the state directories, by serial number. */
function readIdentities(stateDirs) {
  const devices = {};
  for (const dir of stateDirs) {
    const file = join(dir, 'identity.json');
    let identity;
    try {
      identity = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(
        `cannot read ${file} (${err.code ?? err.message}): flash the device with sag-agent init`,
      );
    }
    devices[identity.serialNumber] = { serialNumber: identity.serialNumber, publicKey: identity.publicKey };
  }
  for (const branch of BRANCHES) {
    if (!devices[branch.serial]) {
      throw new Error(
        `no identity for ${branch.serial} (${branch.name}) in ${stateDirs.join(', ')}; found: ${Object.keys(devices).join(', ') || 'none'}`,
      );
    }
  }
  return devices;
}

async function until(what, check, timeoutMs = 60_000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return { value, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitInSync(api, ids, stepNumber) {
  for (const id of ids.gateways) {
    const { value, ms } = await until(`${id} in sync`, async () => {
      const status = await api.get(`/v1/gateways/${id}/status`);
      return status.sync === 'in-sync' && status.appliedRevision !== null ? status : null;
    });
    step(stepNumber, `${id}: device applied config revision ${value.appliedRevision} (${ms} ms)`);
  }
}

/** The lab's gateways when a previous run made them, so `docker-compose up` can be repeated. */
async function existingGateways(api) {
  const { items } = await api.get('/v1/gateways?limit=500');
  const names = BRANCHES.map((branch) => branch.name);
  const found = items.filter((gateway) => names.includes(gateway.name));
  if (found.length > 0 && found.length < names.length) {
    throw new Error(
      `only ${found.map((g) => `${g.id} "${g.name}"`).join(', ')} exist: an earlier setup stopped half way; start over with docker-compose down -v`,
    );
  }
  return found;
}

async function walkScenario(api, devices) {
  const ids = {};
  await createGateways(api, ids, step);
  await bindDevices(api, ids, devices, step);
  for (const id of ids.gateways) {
    await until(
      `${id} online`,
      async () => (await api.get(`/v1/gateways/${id}/status`)).presence === 'online',
    );
    step(2, `${id}: device connected, waiting for activation`);
  }
  await activateGateways(api, ids, step);
  await waitInSync(api, ids, 3);
  await configureNetwork(api, ids, step);
  await waitInSync(api, ids, 4);
  await createInstances(api, ids, step);
  for (const result of await accessMatrix(api, ids)) {
    step(6, `before the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  await authorizeBranches(api, ids, step);
  for (const result of await accessMatrix(api, ids)) {
    step(6, `after the security-group rule, ${result.from} → ${result.to} tcp/22: ${verdict(result)}`);
  }
  const branchToBranch = await api.post('/v1/access-tests', {
    source: { gatewayId: ids.gateways[0], ip: BRANCHES[0].client },
    destination: { ip: BRANCHES[1].client },
    protocol: 'icmp',
  });
  step(6, `${BRANCHES[0].name} → ${BRANCHES[1].name} icmp: ${verdict(branchToBranch)}`);
  const probe = await api.post(`/v1/gateways/${ids.gateways[0]}/probes`, {
    destination: VPCS[0].instanceIp,
    protocol: 'tcp',
    port: 22,
  });
  step(6, `live probe from device ${probe.seenBy} to ${VPCS[0].instanceIp} tcp/22: ${verdict(probe)}`);
}

async function main(argv) {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return argv.length === 0 ? 2 : 0;
  }
  const baseUrl = process.env.SAG_API_URL || 'http://broker:8080';
  const token = process.env.SAG_API_TOKEN;
  if (!token) throw new Error('SAG_API_TOKEN is not set: give the token the broker was started with');
  const api = apiClient(baseUrl, token);
  const devices = readIdentities(argv);
  for (const branch of BRANCHES) {
    console.log(
      `device ${branch.serial} (${branch.name}) flashed: public key ${devices[branch.serial].publicKey}`,
    );
  }
  const existing = await existingGateways(api);
  if (existing.length > 0) {
    for (const gateway of existing) {
      const status = await api.get(`/v1/gateways/${gateway.id}/status`);
      console.log(`${gateway.id} "${gateway.name}": ${status.presence}, config ${status.sync}`);
    }
    console.log(
      'The gateways exist from an earlier run; nothing to do (docker-compose down -v starts over).',
    );
    return 0;
  }
  await walkScenario(api, devices);
  const port = process.env.SAG_LAB_HTTP_PORT || '8080';
  console.log(`\nOpenSAG Docker lab is up.
  API:    http://127.0.0.1:${port}/v1   (token: ${token})
  docs:   http://127.0.0.1:${port}/docs
Try: docker-compose exec hangzhou node /opt/opensag/sag-agent.mjs status`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`setup: ${err.message}`);
    process.exit(1);
  },
);
