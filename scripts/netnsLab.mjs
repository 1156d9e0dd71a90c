// The network-namespace lab's topology: two edges (cloud access points), the Hangzhou and Ningbo
// gateways with a client each, one instance per VPC, all joined through an "internet" bridge.
// Used by `npm run lab:netns` and by the tests in test/lab/. Every namespace and the one host
// link start with `osl-`, so teardown finds everything, even what a crashed run left behind.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectNamespaces, createNamespace } from '../packages/agent/dist/dataplane/linux/netns.js';
import {
  host,
  inNamespace,
  inNamespaceAsync,
  LAB_DIR,
  removeNamespace,
  spawnInNamespace,
  startBrokerProcess,
  stopStartedProcesses,
  waitForLine,
} from './netnsProcesses.mjs';

// The processes' side (running commands, the broker, the agents) is in netnsProcesses.mjs; the
// lab's users import both from here.
export * from './netnsProcesses.mjs';
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
    // Hangzhou takes its WAN address from the ISP's DHCP (a reservation), Ningbo has a static one.
    wanPort: 'wan0:dhcp',
    cidr: '172.16.0.0/16',
    lan: { interface: 'lan0', address: '172.16.0.1/24', pool: '172.16.0.100-172.16.0.199' },
    client: 'osl-hz-client',
  },
  {
    name: 'Ningbo branch',
    namespace: 'osl-nb',
    serial: 'SAGNB0001',
    wan: '203.0.113.22',
    wanPort: 'wan0:static:203.0.113.22/24:203.0.113.1',
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

const UDHCPC_SCRIPT = join(LAB_DIR, 'udhcpc.script');
export const INET = 'osl-inet';
export const NAMESPACES = [
  INET,
  ...EDGES.map((e) => e.namespace),
  ...GATEWAYS.map((g) => g.namespace),
  ...CLIENTS.map((c) => c.namespace),
  ...INSTANCES.map((i) => i.namespace),
];

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
  startIspDhcp();
  log(`ISP DHCP: dnsmasq on br0 in ${INET}, ${GATEWAYS[0].wan} reserved for ${GATEWAYS[0].namespace}`);
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

/** The ISP's address on the bridge, from which its DHCP server answers. */
const ISP_ADDRESS = '203.0.113.254/24';

/**
 * The ISP's DHCP server on the internet bridge, so a gateway whose WAN is `dhcp` leases its
 * address (reserved by MAC, so the lab's addresses stay fixed) with the host as its router. It
 * runs as a daemon in osl-inet and ends with the namespace. `--no-ping`: no 3 s address check.
 */
function startIspDhcp() {
  const step = 'starting the ISP DHCP server';
  ipIn(INET, step, 'address', 'add', ISP_ADDRESS, 'dev', 'br0');
  const reservations = GATEWAYS.map((gateway) => {
    const [link] = JSON.parse(ipIn(gateway.namespace, step, '-j', 'link', 'show', 'wan0'));
    return `--dhcp-host=${link.address},${gateway.wan}`;
  });
  must(step, 'ip', [
    'netns',
    'exec',
    INET,
    'dnsmasq',
    '--conf-file=/dev/null',
    '--port=0',
    '--interface=br0',
    '--bind-interfaces',
    '--no-ping',
    '--dhcp-range=203.0.113.100,203.0.113.199,255.255.255.0,12h',
    `--dhcp-option=3,${HOST_LINK.address}`,
    ...reservations,
    `--dhcp-leasefile=${join(LAB_DIR, 'isp.leases')}`,
    `--pid-file=${join(LAB_DIR, 'isp-dnsmasq.pid')}`,
  ]);
}

/**
 * A WAN link from `ns` into the internet bridge with its address already on it: the box's own
 * system brought it online for its first contact with the broker. (Once the gateway's config says
 * wan0 dhcp, the agent's DHCP client leases the same address from the ISP.)
 */
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
// A client that resets before the banner is written must not take the servers down with it.
const banner = (s) => s.on('error', () => {}).end('SSH-2.0-OpenSAG_lab ' + ip + '\\r\\n');
require('node:net').createServer(banner).listen(22, up);
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

/**
 * The broker's config file: the two edges as access points, edge-a first (active), with their
 * identities. `keepalive` (the tunnel keepalive pushed to every device) is left to the broker's
 * defaults unless given.
 */
export function writeBrokerConfig(file, identities, { keepalive } = {}) {
  const accessPoints = EDGES.map((edge) => ({
    id: edge.id,
    address: edge.probeAddress,
    serialNumber: edge.serial,
    identityKey: identities[edge.serial].publicKey,
  }));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...(keepalive ? { keepalive } : {}), accessPoints }, null, 2)}\n`);
}

/**
 * The broker on the host: MQTT on the internet link's address (the devices dial it from their
 * namespaces), the HTTP API on loopback. Resolves once it listens, with its URLs.
 */
export function startBroker({
  token,
  configFile,
  dataDir = join(LAB_DIR, 'broker'),
  http = process.env.SAG_NETNS_LAB_HTTP ?? '127.0.0.1:8090',
  mqttPort = process.env.SAG_NETNS_LAB_MQTT_PORT ?? '1883',
  logLevel = process.env.SAG_LOG_LEVEL ?? 'warn',
  write,
} = {}) {
  return startBrokerProcess({
    token,
    configFile,
    dataDir,
    http,
    mqtt: `${BROKER_ADDRESS}:${mqttPort}`,
    // The embedded access point stays off loopback, so the loopback lab (`npm run lab`) can run too.
    accessPoint: `${BROKER_ADDRESS}:51821`,
    logLevel,
    write,
  });
}

/** The lab's namespaces that exist now, including leftovers of an earlier run. */
export function labNamespaces() {
  return host('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name?.startsWith(PREFIX));
}

/**
 * Ends every process the lab started (agents first, so they can clean up, then the broker) and
 * every process still inside an `osl-` namespace, then deletes the namespaces and the host link.
 * Synchronous, so it also runs from an exit handler; safe after a partial build and when called twice.
 */
export function teardown({ graceMs = 5000 } = {}) {
  stopStartedProcesses({ graceMs });
  if (host('ip', ['link', 'show', HOST_LINK.name]).code === 0) host('ip', ['link', 'del', HOST_LINK.name]);
  for (const ns of labNamespaces()) removeNamespace(ns, { graceMs });
}
