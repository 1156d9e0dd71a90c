// `npm run lab:netns` (as root): the reference scenario with real packets. Builds the namespace
// topology (scripts/netnsLab.mjs), flashes two edges and two gateways, starts the broker and the
// four agents with the linux data plane, walks the six steps with sagctl, hands out DHCP leases to
// the branch clients, then stays up until Ctrl-C. `--check` (or SAG_LAB_ONCE=1) tries the traffic
// itself, prints the results and exits 0 or 1. Teardown runs on every way out.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  BROKER_ADDRESS,
  buildTopology,
  CLIENTS,
  dhcpLease,
  EDGES,
  GATEWAYS,
  host,
  INSTANCES,
  initIdentity,
  inNamespaceAsync,
  LAB_DIR,
  ROOT,
  startAgent,
  startBroker,
  startInstanceServers,
  teardown,
  writeBrokerConfig,
} from './netnsLab.mjs';
import { apiClient, BRANCHES, until, VPCS, waitInSync, waitOnline } from './scenario.mjs';

const SAGCTL = join(ROOT, 'packages/broker/bin/sagctl.js');
const TOOLS = {
  ip: 'iproute2',
  nft: 'nftables',
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
  dnsmasq: 'dnsmasq',
  udhcpc: 'udhcpc (busybox)',
};
const check = process.argv.includes('--check') || process.env.SAG_LAB_ONCE === '1';
const token = randomBytes(24).toString('base64url');
const shown = (path) => relative(ROOT, path);
const step = (n, text) => console.log(`step ${n}: ${text}`);
let exiting = false;

function shutdown(code) {
  if (exiting) return;
  exiting = true;
  console.log('lab:netns: tearing down (agents, broker, instance servers, osl-* namespaces)');
  teardown();
  process.exit(code);
}

function preflight() {
  if (process.getuid?.() !== 0) {
    console.error('lab:netns: must run as root (it creates network namespaces): sudo npm run lab:netns');
    process.exit(1);
  }
  const installed = (tool) => host('sh', ['-c', `command -v ${tool}`]).code === 0;
  const missing = Object.keys(TOOLS).filter((tool) => !installed(tool));
  if (missing.length > 0) {
    const list = missing.map((tool) => `${tool} (package ${TOOLS[tool]})`).join(', ');
    console.error(`lab:netns: missing ${list}; install and run again`);
    process.exit(1);
  }
  for (const cli of ['packages/broker/dist/cli.js', 'packages/agent/dist/cli.js']) {
    if (!existsSync(join(ROOT, cli))) {
      console.error(`lab:netns: ${cli} is missing; run npm run build first (npm run lab:netns does)`);
      process.exit(1);
    }
  }
}

/** Runs sagctl as a person would type it (printed first); resolves with its output, throws on refusal. */
function sagctl(...args) {
  const typed = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a}"`)).join(' ');
  console.log(`$ sagctl ${typed}`);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SAGCTL, ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`sagctl ${typed} failed: ${(stderr || error.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** The id from a create command's table ("id  sag-…"). */
async function created(...args) {
  const output = await sagctl(...args);
  const id = /^id\s+(\S+)/m.exec(output)?.[1];
  if (!id) throw new Error(`sagctl ${args.slice(0, 2).join(' ')} printed no id:\n${output}`);
  console.log(`  → ${id}`);
  return id;
}

const indented = (text) => console.log(text.trimEnd().replace(/^(?=.)/gm, '  '));

/** Stops the lab when a process it needs dies while the lab is up. */
function essential(child, name) {
  child.on('exit', (code, signal) => {
    if (exiting) return;
    console.error(`lab:netns: ${name} exited (${signal ?? code}); stopping the lab`);
    shutdown(1);
  });
}

function startDevice(namespace, serial, brokerUrl, edgeOptions = {}) {
  const stateDir = join(LAB_DIR, serial);
  const role = edgeOptions.listen ? ` --role edge --listen ${edgeOptions.listen}` : '';
  console.log(
    `$ ip netns exec ${namespace} sag-agent run --state-dir ${shown(stateDir)} --broker ${brokerUrl} ` +
      `--dataplane linux${role}    # with a private /var/run/wireguard`,
  );
  const child = startAgent({
    namespace,
    stateDir,
    brokerUrl,
    name: serial,
    ...(edgeOptions.listen ? { role: 'edge', listen: edgeOptions.listen } : {}),
  });
  essential(child, `agent ${serial} in ${namespace}`);
}

async function flashAndStartBroker() {
  const identities = {};
  for (const serial of [...EDGES.map((e) => e.serial), ...GATEWAYS.map((g) => g.serial)]) {
    const stateDir = join(LAB_DIR, serial);
    console.log(`$ sag-agent init --serial ${serial} --state-dir ${shown(stateDir)}`);
    identities[serial] = initIdentity(serial, stateDir);
    console.log(`  → public key ${identities[serial].publicKey}`);
  }
  const configFile = join(LAB_DIR, 'broker.json');
  writeBrokerConfig(configFile, identities);
  console.log(
    `broker config ${shown(configFile)}: access points ${EDGES.map((e) => `${e.id} ${e.probeAddress}`).join(', ')}`,
  );
  const broker = await startBroker({ token, configFile });
  essential(broker.child, 'the broker');
  console.log(
    `broker: API ${broker.url}/v1, MQTT ${broker.mqttUrl}, data in ${shown(join(LAB_DIR, 'broker'))}`,
  );
  process.env.SAG_URL = broker.url;
  process.env.SAG_API_TOKEN = token;
  console.log(`$ export SAG_URL=${broker.url} SAG_API_TOKEN=${token}`);
  return broker;
}

async function walkScenario(api, brokerUrl) {
  const ids = { gateways: [], vpcs: [], groups: [], instances: [] };
  for (const gateway of GATEWAYS) {
    step(1, `order the ${gateway.name} gateway`);
    ids.gateways.push(
      await created(
        'gateway',
        'create',
        '--name',
        gateway.name,
        '--area',
        'china-mainland',
        '--spec',
        'sag-100wm',
        '--bandwidth',
        '2',
        '--months',
        '1',
      ),
    );
  }
  for (const [index, gateway] of GATEWAYS.entries()) {
    step(2, `bind device ${gateway.serial} and start it in ${gateway.namespace}`);
    await sagctl(
      'gateway',
      'bind-device',
      ids.gateways[index],
      '--identity',
      shown(join(LAB_DIR, gateway.serial)),
    );
    startDevice(gateway.namespace, gateway.serial, brokerUrl);
  }
  await waitOnline(api, ids, step);

  let since = Date.now();
  for (const [index, gateway] of GATEWAYS.entries()) {
    step(3, `activate ${gateway.name}; WAN by DHCP (the ISP's), LAN ${gateway.lan.address} with a DHCP pool`);
    await sagctl('gateway', 'activate', ids.gateways[index]);
    const lan = `${gateway.lan.interface}:${gateway.lan.address}:${gateway.lan.pool}`;
    await sagctl('gateway', 'ports', ids.gateways[index], '--wan', 'wan0:dhcp', '--lan', lan);
  }
  await waitInSync(api, ids, 3, since, step);

  since = Date.now();
  step(4, 'the VPCs in a CEN, the branch blocks, one CCN attached to the CEN');
  const cen = await created('cen', 'create', '--name', 'Company CEN');
  for (const vpc of VPCS) {
    const id = await created('vpc', 'create', '--name', vpc.name, '--region', vpc.region, '--cidr', vpc.cidr);
    ids.vpcs.push(id);
    await sagctl('cen', 'attach', cen, '--vpc', id);
  }
  const ccn = await created('ccn', 'create', '--name', 'Branches', '--area', 'china-mainland');
  for (const [index, branch] of BRANCHES.entries()) {
    await sagctl(
      'gateway',
      'network',
      ids.gateways[index],
      '--cidr',
      branch.cidr,
      '--ccn',
      ccn,
      '--cen',
      cen,
    );
  }
  await waitInSync(api, ids, 4, since, step);

  step(5, 'a server in each VPC, in a security group of its own');
  for (const [index, vpc] of VPCS.entries()) {
    const group = await created(
      'security-group',
      'create',
      '--name',
      `${vpc.name} servers`,
      '--vpc',
      ids.vpcs[index],
    );
    ids.groups.push(group);
    ids.instances.push(
      await created(
        'instance',
        'create',
        '--name',
        `${vpc.name} server`,
        '--vpc',
        ids.vpcs[index],
        '--ip',
        vpc.instanceIp,
        '--security-group',
        group,
      ),
    );
  }
  const accessTest = [
    'access-test',
    '--from-gateway',
    ids.gateways[0],
    '--from-ip',
    GATEWAYS[0].lan.pool.split('-')[0],
  ];
  indented(
    await sagctl(...accessTest, '--to-instance', ids.instances[0], '--protocol', 'tcp', '--port', '80'),
  );
  since = Date.now();
  step(5, 'authorize both branch blocks on every security group');
  for (const group of ids.groups) {
    for (const branch of BRANCHES) {
      await sagctl(
        'security-group',
        'add-rule',
        group,
        '--direction',
        'ingress',
        '--policy',
        'accept',
        '--priority',
        '1',
        '--protocol',
        'all',
        '--cidr',
        branch.cidr,
      );
    }
  }
  await waitInSync(api, ids, 5, since, step);
  step(6, 'test access: the analysis, and a live probe from the Hangzhou gateway');
  indented(
    await sagctl(...accessTest, '--to-instance', ids.instances[0], '--protocol', 'tcp', '--port', '80'),
  );
  indented(
    await sagctl(
      'gateway',
      'probe',
      ids.gateways[0],
      '--destination',
      INSTANCES[0].ip,
      '--protocol',
      'tcp',
      '--port',
      '80',
    ),
  );
  return ids;
}

/** Edges report through GET /v1/access-points where the broker has it. */
async function waitEdgesInSync(api) {
  const edgeIds = EDGES.map((e) => e.id).join(', ');
  try {
    await api.get('/v1/access-points');
  } catch (err) {
    if (err.status !== 404) throw err;
    console.log(
      `note: this broker has no GET /v1/access-points; not waiting for ${edgeIds} to report in sync`,
    );
    return;
  }
  await until(`edges ${edgeIds} in sync`, async () => {
    const answer = await api.get('/v1/access-points');
    const items = Array.isArray(answer) ? answer : (answer.items ?? []);
    return EDGES.every((edge) => {
      const point = items.find((i) => i.id === edge.id || i.serialNumber === edge.serial);
      return point?.presence === 'online' && (point.sync ?? 'in-sync') === 'in-sync';
    });
  });
  console.log(`edges ${edgeIds}: in sync`);
}

async function leases() {
  const addresses = {};
  for (const client of CLIENTS) {
    console.log(
      `$ ip netns exec ${client.namespace} udhcpc -i eth0 -q -n -s ${shown(join(LAB_DIR, 'udhcpc.script'))}`,
    );
    addresses[client.namespace] = await dhcpLease(client.namespace, { timeoutSeconds: 15 });
    console.log(
      `  → ${client.namespace} eth0 ${addresses[client.namespace]} (from ${client.gateway}'s DHCP pool)`,
    );
  }
  return addresses;
}

/** The traffic a new user tries first; each entry is a command in a client namespace. */
function trials(addresses) {
  const [hz, nb] = CLIENTS.map((c) => addresses[c.namespace].split('/')[0]);
  return [
    ...INSTANCES.flatMap((instance) => [
      ['osl-hz-client', 'ping', '-c', '3', '-W', '2', instance.ip],
      ['osl-hz-client', 'curl', '-sS', '-m', '5', `http://${instance.ip}/`],
    ]),
    ['osl-nb-client', 'ping', '-c', '3', '-W', '2', INSTANCES[0].ip],
    ['osl-nb-client', 'curl', '-sS', '-m', '5', `http://${INSTANCES[1].ip}/`],
    ['osl-hz-client', 'ping', '-c', '3', '-W', '2', nb],
    ['osl-nb-client', 'ping', '-c', '3', '-W', '2', hz],
  ];
}

async function runTrials(addresses) {
  let failed = 0;
  for (const [ns, cmd, ...args] of trials(addresses)) {
    const result = await inNamespaceAsync(ns, cmd, args);
    const summary = (result.stdout + result.stderr).trim().split('\n').slice(-2).join(' | ');
    console.log(
      `${result.code === 0 ? 'ok  ' : 'FAIL'} ip netns exec ${ns} ${cmd} ${args.join(' ')}: ${summary}`,
    );
    if (result.code !== 0) failed++;
  }
  return failed;
}

function printTryThis(addresses, broker) {
  const tries = trials(addresses).map(
    ([ns, cmd, ...args]) => `  ip netns exec ${ns} ${cmd} ${args.join(' ')}`,
  );
  console.log(`
OpenSAG namespace lab is up (state in ${shown(LAB_DIR)}).
  API:   ${broker.url}/v1   docs: ${broker.url}/docs
  MQTT:  ${broker.mqttUrl}
  sagctl: export SAG_URL=${broker.url} SAG_API_TOKEN=${token}; npx sagctl gateway list
Try, from another terminal (as root):
${tries.join('\n')}
  ip netns exec osl-hz wg show
  ip netns exec osl-hz nft list ruleset
  ip netns exec osl-hz ip route
  ip netns exec osl-edge-a wg show
  ip netns exec osl-vpc-sh ip route
Press Ctrl-C to stop; everything is torn down.`);
}

async function main() {
  preflight();
  teardown();
  rmSync(LAB_DIR, { recursive: true, force: true });
  mkdirSync(LAB_DIR, { recursive: true });
  console.log('building the topology (namespaces osl-*, host link osl-wan)');
  await buildTopology({ log: (line) => console.log(`  ${line}`) });
  await startInstanceServers();
  console.log(`  instance servers: HTTP :80 and a banner on :22 at ${INSTANCES.map((i) => i.ip).join(', ')}`);

  const broker = await flashAndStartBroker();
  const brokerUrl = `mqtt://${BROKER_ADDRESS}:${new URL(broker.mqttUrl).port}`;
  for (const edge of EDGES) startDevice(edge.namespace, edge.serial, brokerUrl, { listen: '0.0.0.0:51820' });
  const api = apiClient(broker.url, token);
  await walkScenario(api, brokerUrl);
  await waitEdgesInSync(api);
  const addresses = await leases();

  if (check) {
    const failed = await runTrials(addresses);
    console.log(failed === 0 ? 'lab:netns: every check passed' : `lab:netns: ${failed} check(s) failed`);
    shutdown(failed === 0 ? 0 : 1);
    return;
  }
  printTryThis(addresses, broker);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('uncaughtException', (err) => {
  console.error(`lab:netns: ${err.stack ?? err}`);
  shutdown(1);
});
// Last resort (process.exit from elsewhere): teardown is synchronous, so it can run here.
process.on('exit', () => {
  if (!exiting) teardown();
});

main().catch((err) => {
  console.error(`lab:netns: ${err.message}`);
  shutdown(1);
});
