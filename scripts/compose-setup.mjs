#!/usr/bin/env node
// The Docker lab's one-shot `setup` job: binds the device identities flashed into the branch state
// volumes, then walks the reference scenario (SPEC §2) over the HTTP API, the same steps as
// `npm run lab`, while the two branch agents run in their own containers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  activateGateways,
  apiClient,
  BRANCHES,
  bindDevices,
  configureNetwork,
  createGateways,
  securityAndAccess,
  waitInSync,
  waitOnline,
} from './scenario.mjs';

const HELP = `Usage: node scripts/compose-setup.mjs STATE_DIR...

Reads identity.json from each device state directory (made by sag-agent init), binds the
Hangzhou (SAGHZ0001) and Ningbo (SAGNB0001) devices to new gateways and walks the reference
scenario, waiting for each device to apply its config. Does nothing if both gateways exist.

Environment: SAG_API_URL (default http://broker:8080), SAG_API_TOKEN (required),
SAG_LAB_HTTP_PORT (the API's port on the Docker host, for the closing message; default 8080).
`;

const step = (n, text) => console.log(`step ${n}: ${text}`);

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
  await waitOnline(api, ids, step);
  let since = Date.now();
  await activateGateways(api, ids, step);
  await waitInSync(api, ids, 3, since, step);
  since = Date.now();
  await configureNetwork(api, ids, step);
  await waitInSync(api, ids, 4, since, step);
  await securityAndAccess(api, ids, step);
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
