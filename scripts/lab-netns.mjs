// `npm run lab:netns` (as root): the reference scenario with real packets. Builds the namespace
// topology (scripts/netnsLab.mjs), flashes two edges and two gateways, starts the broker and the
// four agents with the linux data plane, walks the six steps with sagctl (scripts/netnsScenario.mjs),
// hands out DHCP leases to the branch clients, then stays up until Ctrl-C. `--check` (or
// SAG_LAB_ONCE=1) tries the traffic itself, prints the results and exits 0 or 1. Teardown runs on
// every way out.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BROKER_ADDRESS,
  buildTopology,
  CLIENTS,
  host,
  INSTANCES,
  inNamespaceAsync,
  LAB_DIR,
  ROOT,
  startInstanceServers,
  teardown,
  wireguardRunDir,
} from './netnsLab.mjs';
import { flashDevices, LAB_TOOLS, netnsScenario, shown, startLabBroker } from './netnsScenario.mjs';

const check = process.argv.includes('--check') || process.env.SAG_LAB_ONCE === '1';
const token = randomBytes(24).toString('base64url');
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
  const missing = Object.keys(LAB_TOOLS).filter((tool) => !installed(tool));
  if (missing.length > 0) {
    const list = missing.map((tool) => `${tool} (package ${LAB_TOOLS[tool]})`).join(', ');
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

/** Stops the lab when a process it needs dies while the lab is up. */
function essential(child, name) {
  child.on('exit', (code, signal) => {
    if (exiting) return;
    console.error(`lab:netns: ${name} exited (${signal ?? code}); stopping the lab`);
    shutdown(1);
  });
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
  // wireguard-go's sockets are in the agent's private /var/run/wireguard: wg must look there.
  const wg = (ns) =>
    `  ip netns exec ${ns} sh -c 'mount --bind ${wireguardRunDir(ns)} /var/run/wireguard && wg show'`;
  console.log(`
OpenSAG namespace lab is up (state in ${shown(LAB_DIR)}).
  API:   ${broker.url}/v1   docs: ${broker.url}/docs
  MQTT:  ${broker.mqttUrl}
  sagctl: export SAG_URL=${broker.url} SAG_API_TOKEN=${token}; npx sagctl gateway list
Try, from another terminal (as root):
${tries.join('\n')}
${wg('osl-hz')}
  ip netns exec osl-hz nft list ruleset
  ip netns exec osl-hz ip route
${wg('osl-edge-a')}
  ip netns exec osl-vpc-sh ip route
Press Ctrl-C to stop; everything is torn down.`);
}

async function startBrokerAndEdges() {
  const identities = flashDevices();
  const broker = await startLabBroker({ identities, token });
  essential(broker.child, 'the broker');
  console.log(`$ export SAG_URL=${broker.url} SAG_API_TOKEN=${token}`);
  const mqttUrl = `mqtt://${BROKER_ADDRESS}:${new URL(broker.mqttUrl).port}`;
  const scenario = netnsScenario({ url: broker.url, token, mqttUrl, onDevice: essential });
  scenario.startEdges();
  return { broker, scenario };
}

/** The six steps as the tutorial has them, then the edges' sync. */
async function walkScenario(scenario) {
  await scenario.orderGateways();
  await scenario.bindAndStartGateways();
  await scenario.activateGateways();
  await scenario.configureNetwork();
  await scenario.createServers();
  await scenario.accessTest();
  const since = Date.now();
  await scenario.authorizeBranches();
  await scenario.waitGatewaysInSync(5, since);
  await scenario.testAccess();
  await scenario.waitEdgesInSync();
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

  const { broker, scenario } = await startBrokerAndEdges();
  await walkScenario(scenario);
  const addresses = await scenario.leases();

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
