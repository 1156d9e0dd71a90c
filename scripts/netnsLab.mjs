// The network-namespace lab's topology: two edges (cloud access points), the Hangzhou and Ningbo
// gateways with a client each, one instance per VPC, all joined through an "internet" bridge.
// Used by `npm run lab:netns` and by the tests in test/lab/. Every namespace and the one host
// link start with `osl-`, so teardown finds everything, even what a crashed run left behind.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNamespaces, createNamespace } from '../packages/agent/dist/dataplane/linux/netns.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const LAB_DIR = join(ROOT, '.lab-netns');
export const PREFIX = 'osl-';
/** The host end of the link into the internet bridge; the broker listens on its address. */
export const HOST_LINK = { name: 'osl-wan', peer: 'host0', address: '203.0.113.1', prefix: 24 };
export const BROKER_ADDRESS = HOST_LINK.address;
/** Branch blocks as the VPC route tables know them: both branches behind one route. */
export const BRANCH_SUPERNET = '172.16.0.0/12';

/**
 * @typedef {{ id: string, name: string, namespace: string, wan: string, probeAddress: string,
 *   serial: string, vpcLinks: { name: string, address: string }[], instanceLink: string }} Edge
 * @typedef {{ name: string, namespace: string, serial: string, wan: string, cidr: string,
 *   lan: { interface: string, address: string, pool: string }, client: string }} Gateway
 * @typedef {{ namespace: string, gateway: string, interface: string }} Client
 * @typedef {{ name: string, namespace: string, ip: string, prefix: number, vpcLink: string }} Instance
 */

/** @type {Edge[]} edge-a is every gateway's active access point, edge-b the standby. */
export const EDGES = [
  {
    id: 'ap-edge-a',
    name: 'edge-a',
    namespace: 'osl-edge-a',
    wan: '203.0.113.11',
    probeAddress: '203.0.113.11:51820',
    serial: 'SAGEDGEA01',
    vpcLinks: [
      { name: 'vpc-sh', address: '10.1.255.1/16' },
      { name: 'vpc-bj', address: '10.2.255.1/16' },
    ],
    instanceLink: 'eth-a',
  },
  {
    id: 'ap-edge-b',
    name: 'edge-b',
    namespace: 'osl-edge-b',
    wan: '203.0.113.12',
    probeAddress: '203.0.113.12:51820',
    serial: 'SAGEDGEB01',
    vpcLinks: [
      { name: 'vpc-sh', address: '10.1.255.2/16' },
      { name: 'vpc-bj', address: '10.2.255.2/16' },
    ],
    instanceLink: 'eth-b',
  },
];

/** @type {Gateway[]} */
export const GATEWAYS = [
  {
    name: 'Hangzhou branch',
    namespace: 'osl-hz',
    serial: 'SAGHZ0001',
    wan: '203.0.113.21',
    cidr: '172.16.0.0/16',
    lan: { interface: 'lan0', address: '172.16.0.1/24', pool: '172.16.0.100-172.16.0.199' },
    client: 'osl-hz-client',
  },
  {
    name: 'Ningbo branch',
    namespace: 'osl-nb',
    serial: 'SAGNB0001',
    wan: '203.0.113.22',
    cidr: '172.17.0.0/16',
    lan: { interface: 'lan0', address: '172.17.0.1/24', pool: '172.17.0.100-172.17.0.199' },
    client: 'osl-nb-client',
  },
];

/** @type {Client[]} */
export const CLIENTS = GATEWAYS.map((g) => ({
  namespace: g.client,
  gateway: g.namespace,
  interface: 'eth0',
}));

/** @type {Instance[]} the link name is the same on both edges (one link per VPC). */
export const INSTANCES = [
  { name: 'Shanghai VPC', namespace: 'osl-vpc-sh', ip: '10.1.0.10', prefix: 16, vpcLink: 'vpc-sh' },
  { name: 'Beijing VPC', namespace: 'osl-vpc-bj', ip: '10.2.0.10', prefix: 16, vpcLink: 'vpc-bj' },
];

export const INET = 'osl-inet';
export const NAMESPACES = [
  INET,
  ...EDGES.map((e) => e.namespace),
  ...GATEWAYS.map((g) => g.namespace),
  ...CLIENTS.map((c) => c.namespace),
  ...INSTANCES.map((i) => i.namespace),
];

const UDHCPC_SCRIPT = join(LAB_DIR, 'udhcpc.script');
const BROKER_PID_FILE = join(LAB_DIR, 'broker.pid');
/** @type {Set<import('node:child_process').ChildProcess>} every process this module started */
const started = new Set();

/** Runs a program on the host; never throws. */
export function host(cmd, args, { input } = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 16 * 1024 * 1024 });
  return {
    code: result.status ?? 127,
    stdout: result.stdout ?? '',
    stderr: result.stderr || (result.error?.message ?? ''),
  };
}

/** Runs a program inside namespace `ns` and waits for it; never throws. */
export function inNamespace(ns, cmd, args = [], opts = {}) {
  return host('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** The same, without blocking the event loop (for commands that wait, like DHCP). */
export function inNamespaceAsync(ns, cmd, args = []) {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Runs a command that must succeed; throws naming the step and the command's own complaint. */
function must(step, cmd, args) {
  const result = host(cmd, args);
  if (result.code !== 0) {
    throw new Error(
      `${step}: \`${[cmd, ...args].join(' ')}\` exited ${result.code}: ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

const ipIn = (ns, step, ...args) => must(step, 'ip', ['-n', ns, ...args]);
const sysctlIn = (ns, ...settings) =>
  must(`sysctl in ${ns}`, 'ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...settings]);

/**
 * A process inside namespace `ns`, tracked so teardown ends it. With `wireguardRunDir`, the process
 * gets a private /var/run/wireguard (wireguard-go and wg hard-code that path; namespaces on one host
 * would share it); `ip netns exec` already gives it a mount namespace of its own.
 */
export function spawnInNamespace(ns, cmd, args = [], { wireguardRunDir, env = {} } = {}) {
  const wrapped = wireguardRunDir
    ? [
        'sh',
        '-c',
        'mkdir -p /var/run/wireguard "$SAG_WG_RUN" && mount --bind "$SAG_WG_RUN" /var/run/wireguard && exec "$0" "$@"',
        cmd,
        ...args,
      ]
    : [cmd, ...args];
  const child = spawn('ip', ['netns', 'exec', ns, ...wrapped], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...(wireguardRunDir ? { SAG_WG_RUN: wireguardRunDir } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  return child;
}

/** A process on the host (the broker), tracked like the others. */
export function spawnOnHost(cmd, args, env = {}) {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  return child;
}

/** Builds the whole topology; first removes whatever an earlier run left. */
export async function buildTopology({ log = () => {} } = {}) {
  teardown();
  mkdirSync(LAB_DIR, { recursive: true });
  writeUdhcpcScript();
  for (const ns of NAMESPACES) {
    await createNamespace(ns);
    // Fresh namespaces start with the kernel defaults; make them explicit where routing depends on them.
    sysctlIn(ns, 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  }
  buildInternet();
  log(
    `internet: bridge br0 in ${INET}, host link ${HOST_LINK.name} ${HOST_LINK.address}/${HOST_LINK.prefix}`,
  );
  for (const edge of EDGES) await buildEdge(edge);
  log(`edges: ${EDGES.map((e) => `${e.namespace} wan0 ${e.wan}`).join(', ')}`);
  for (const gateway of GATEWAYS) await buildBranch(gateway);
  log(`gateways: ${GATEWAYS.map((g) => `${g.namespace} wan0 ${g.wan}, lan0 → ${g.client}`).join('; ')}`);
  for (const instance of INSTANCES) buildInstance(instance);
  log(`instances: ${INSTANCES.map((i) => `${i.namespace} ${i.ip}`).join(', ')}`);
}

function buildInternet() {
  const step = 'building the internet bridge';
  ipIn(INET, step, 'link', 'add', 'br0', 'type', 'bridge');
  ipIn(INET, step, 'link', 'set', 'br0', 'up');
  must(step, 'ip', [
    'link',
    'add',
    HOST_LINK.name,
    'type',
    'veth',
    'peer',
    'name',
    HOST_LINK.peer,
    'netns',
    INET,
  ]);
  must(step, 'ip', ['address', 'add', `${HOST_LINK.address}/${HOST_LINK.prefix}`, 'dev', HOST_LINK.name]);
  must(step, 'ip', ['link', 'set', HOST_LINK.name, 'up']);
  ipIn(INET, step, 'link', 'set', HOST_LINK.peer, 'master', 'br0', 'up');
}

/** A WAN link from `ns` into the internet bridge, with a fixed address (as the ISP would give). */
async function plugIntoInternet(ns, bridgePort, address) {
  await connectNamespaces({ namespace: ns, name: 'wan0' }, { namespace: INET, name: bridgePort });
  ipIn(INET, `plugging ${ns} into br0`, 'link', 'set', bridgePort, 'master', 'br0');
  ipIn(ns, `addressing ${ns} wan0`, 'address', 'add', `${address}/24`, 'dev', 'wan0');
}

async function buildEdge(edge) {
  await plugIntoInternet(edge.namespace, edge.name, edge.wan);
  sysctlIn(edge.namespace, 'net.ipv4.ip_forward=1');
  for (const [index, link] of edge.vpcLinks.entries()) {
    const instance = INSTANCES[index];
    await connectNamespaces(
      { namespace: edge.namespace, name: link.name },
      { namespace: instance.namespace, name: edge.instanceLink },
    );
    ipIn(
      edge.namespace,
      `addressing ${edge.namespace} ${link.name}`,
      'address',
      'add',
      link.address,
      'dev',
      link.name,
    );
  }
}

async function buildBranch(gateway) {
  const bridgePort = gateway.namespace.slice(PREFIX.length);
  await plugIntoInternet(gateway.namespace, bridgePort, gateway.wan);
  sysctlIn(gateway.namespace, 'net.ipv4.ip_forward=1');
  // lan0 stays without an address: the agent assigns it from the gateway's port config.
  await connectNamespaces(
    { namespace: gateway.namespace, name: gateway.lan.interface },
    { namespace: gateway.client, name: 'eth0' },
  );
}

/**
 * The instance sits behind both edges, like a VPC whose route table sends the branch blocks to the
 * active edge (metric 10) and the standby (metric 20): when edge-a's namespace is deleted its veth
 * and that route vanish, and replies take edge-b. Host routes to each edge's own address keep the
 * two same-subnet links apart.
 */
function buildInstance(instance) {
  const step = `building instance ${instance.ip} in ${instance.namespace}`;
  for (const [index, edge] of EDGES.entries()) {
    const dev = edge.instanceLink;
    const edgeAddress = edge.vpcLinks.find((l) => l.name === instance.vpcLink).address.split('/')[0];
    ipIn(instance.namespace, step, 'address', 'add', `${instance.ip}/${instance.prefix}`, 'dev', dev);
    ipIn(instance.namespace, step, 'route', 'add', `${edgeAddress}/32`, 'dev', dev);
    const metric = String(10 * (index + 1));
    ipIn(
      instance.namespace,
      step,
      'route',
      'add',
      BRANCH_SUPERNET,
      'via',
      edgeAddress,
      'dev',
      dev,
      'metric',
      metric,
    );
  }
}

const INSTANCE_SERVERS = `
const ip = process.argv[1];
let ready = 0;
const up = () => ++ready === 2 && console.log('listening on ' + ip + ':80 and :22');
require('node:http').createServer((req, res) => res.end('hello from ' + ip + '\\n')).listen(80, up);
require('node:net').createServer((s) => s.end('SSH-2.0-OpenSAG_lab ' + ip + '\\r\\n')).listen(22, up);
`;

/** In each instance: HTTP on port 80 ("hello from IP") and a banner on tcp/22 standing in for SSH. */
export async function startInstanceServers() {
  for (const instance of INSTANCES) {
    const child = spawnInNamespace(instance.namespace, process.execPath, [
      '-e',
      INSTANCE_SERVERS,
      instance.ip,
    ]);
    await waitForLine(child, /listening on/, 10_000, `servers of instance ${instance.ip}`);
  }
}

/** Resolves with the first match of `pattern` in the child's stdout (or `stream`); rejects if it exits first. */
export function waitForLine(child, pattern, timeoutMs, what, stream = child.stdout) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (fn, value) => {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      fn(value);
    };
    const timer = setTimeout(
      () => done(reject, new Error(`${what}: nothing like ${pattern} within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) done(resolve, match);
    };
    const onExit = (code, signal) =>
      done(reject, new Error(`${what}: exited (${signal ?? code}) before ${pattern}:\n${seen}`));
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

// udhcpc's default script writes the host's /etc/resolv.conf (the namespaces share the host's /etc):
// this one only sets the address and the default route from the lease.
function writeUdhcpcScript() {
  writeFileSync(
    UDHCPC_SCRIPT,
    `#!/bin/sh
case "$1" in
  deconfig) ip -4 address flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip -4 address flush dev "$interface"
    ip address add "$ip/\${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "\${router%% *}" dev "$interface"
    ;;
esac
exit 0
`,
  );
  chmodSync(UDHCPC_SCRIPT, 0o755);
}

/** Asks the gateway's DHCP server for a lease on the client's eth0; resolves with the address. */
export async function dhcpLease(clientNs, { timeoutSeconds = 10 } = {}) {
  const tries = String(Math.max(1, timeoutSeconds));
  const args = ['-i', 'eth0', '-f', '-q', '-n', '-t', tries, '-T', '1', '-A', '1', '-s', UDHCPC_SCRIPT];
  const result = await inNamespaceAsync(clientNs, 'udhcpc', args);
  const address = /inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(
    inNamespace(clientNs, 'ip', ['-4', '-o', 'address', 'show', 'dev', 'eth0']).stdout,
  );
  if (result.code !== 0 || !address) {
    const said = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(
      `client ${clientNs} got no DHCP lease on eth0 within ${timeoutSeconds} s ` +
        `(is the gateway's dnsmasq serving its LAN port?); udhcpc said: ${said || 'nothing'}`,
    );
  }
  return address[1];
}

export const AGENT_CLI = join(ROOT, 'packages/agent/dist/cli.js');
export const BROKER_CLI = join(ROOT, 'packages/broker/dist/cli.js');

/** `sag-agent init`: the device identity in `stateDir`; resolves with {serialNumber, publicKey}. */
export function initIdentity(serial, stateDir) {
  const result = host(process.execPath, [AGENT_CLI, 'init', '--serial', serial, '--state-dir', stateDir]);
  if (result.code !== 0) throw new Error(`sag-agent init --serial ${serial} failed: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout);
}

/** The broker's config file: the two edges as access points, edge-a first (active), with their identities. */
export function writeBrokerConfig(file, identities) {
  const accessPoints = EDGES.map((edge) => ({
    id: edge.id,
    address: edge.probeAddress,
    serialNumber: edge.serial,
    identityKey: identities[edge.serial].publicKey,
  }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ accessPoints }, null, 2)}\n`);
}

/** Copies a child's output, each line prefixed with its name; reading also keeps a chatty child from blocking. */
export function forwardOutput(child, name, write = (text) => process.stdout.write(text)) {
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      const lines = chunk.toString().split('\n').filter(Boolean);
      if (write) write(lines.map((line) => `[${name}] ${line}\n`).join(''));
    });
  }
}

/**
 * The broker on the host: MQTT on the internet link's address (the devices dial it from their
 * namespaces), the HTTP API on loopback. Resolves once it listens, with its URLs.
 */
export async function startBroker({
  token,
  configFile,
  dataDir = join(LAB_DIR, 'broker'),
  http = process.env.SAG_NETNS_LAB_HTTP ?? '127.0.0.1:8090',
  mqttPort = process.env.SAG_NETNS_LAB_MQTT_PORT ?? '1883',
  logLevel = process.env.SAG_LOG_LEVEL ?? 'warn',
  write,
} = {}) {
  const args = [BROKER_CLI, '--data-dir', dataDir, '--http', http, '--mqtt', `${BROKER_ADDRESS}:${mqttPort}`];
  // The embedded access point stays off loopback, so the loopback lab (`npm run lab`) can run too.
  args.push('--access-point', `${BROKER_ADDRESS}:51821`, ...(configFile ? ['--config', configFile] : []));
  const child = spawnOnHost(process.execPath, args, { SAG_API_TOKEN: token, SAG_LOG_LEVEL: logLevel });
  recordBrokerPid(child.pid);
  const ready = waitForLine(
    child,
    /API:\s+(http:\/\/\S+)\/v1[\s\S]*MQTT:\s+(mqtt:\/\/\S+)/,
    20_000,
    'the broker',
  );
  forwardOutput(child, 'broker', write);
  const [, url, mqttUrl] = await ready;
  return { child, url, mqttUrl };
}

/** `sag-agent run --dataplane linux` inside `namespace`, with its own /var/run/wireguard. */
export function startAgent({
  namespace,
  stateDir,
  brokerUrl,
  role = 'branch',
  listen,
  logLevel = process.env.SAG_LOG_LEVEL ?? 'warn',
  name = namespace,
  dataplane = 'linux',
  write,
}) {
  const args = [AGENT_CLI, 'run', '--state-dir', stateDir, '--broker', brokerUrl, '--dataplane', dataplane];
  if (role !== 'branch') args.push('--role', role);
  if (listen) args.push('--listen', listen);
  args.push('--log-level', logLevel);
  const wireguardRunDir = join(LAB_DIR, 'run', namespace);
  mkdirSync(wireguardRunDir, { recursive: true });
  const child = spawnInNamespace(namespace, process.execPath, args, { wireguardRunDir });
  forwardOutput(child, name, write);
  return child;
}

/** The lab's namespaces that exist now, including leftovers of an earlier run. */
export function labNamespaces() {
  return host('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name?.startsWith(PREFIX));
}

const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** A process that is gone or a zombie no longer holds a namespace or a port. */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function signal(pids, name) {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, a grace period, then SIGKILL for whatever is left. */
function stopPids(pids, graceMs) {
  const living = [...new Set(pids)].filter(alive);
  if (living.length === 0) return;
  signal(living, 'SIGTERM');
  for (let waited = 0; waited < graceMs && living.some(alive); waited += 50) pause(50);
  signal(living.filter(alive), 'SIGKILL');
  for (let waited = 0; waited < 2000 && living.some(alive); waited += 50) pause(50);
}

const pidsIn = (ns) =>
  host('ip', ['netns', 'pids', ns])
    .stdout.split('\n')
    .filter((pid) => /^\d+$/.test(pid.trim()))
    .map(Number);

/** Ends every process in namespace `ns` and deletes it (its veths vanish with it, peers included). */
export function removeNamespace(ns, { graceMs = 3000 } = {}) {
  // Twice: a process stopping cleanly may start helpers (ip, wg) on its way out.
  for (let pass = 0; pass < 2; pass++) stopPids(pidsIn(ns), graceMs);
  host('ip', ['netns', 'del', ns]);
}

/**
 * Ends every process the lab started (agents first, so they can clean up, then the broker) and
 * every process still inside an `osl-` namespace, then deletes the namespaces and the host link.
 * Synchronous, so it also runs from an exit handler; safe after a partial build and when called twice.
 */
export function teardown({ graceMs = 5000 } = {}) {
  const inNamespaces = [...started].filter((c) => c.spawnargs[0] === 'ip');
  stopPids(
    inNamespaces.map((c) => c.pid),
    graceMs,
  );
  stopPids(
    [...started].map((c) => c.pid),
    graceMs,
  );
  started.clear();
  stopStaleBroker();
  if (host('ip', ['link', 'show', HOST_LINK.name]).code === 0) host('ip', ['link', 'del', HOST_LINK.name]);
  for (const ns of labNamespaces()) removeNamespace(ns, { graceMs });
}

/** Records the broker's pid so a later run can end a broker a killed run left behind. */
export function recordBrokerPid(pid) {
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(BROKER_PID_FILE, `${pid}\n`);
}

function stopStaleBroker() {
  if (!existsSync(BROKER_PID_FILE)) return;
  const pid = Number(readFileSync(BROKER_PID_FILE, 'utf8').trim());
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // gone already
  }
  // Only our broker: a reused pid belongs to someone else.
  if (cmdline.includes(join(ROOT, 'packages/broker')) && cmdline.includes(LAB_DIR)) stopPids([pid], 5000);
  writeFileSync(BROKER_PID_FILE, '');
}
