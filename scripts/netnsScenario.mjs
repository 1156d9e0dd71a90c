// The reference scenario walked with sagctl on the namespace lab, one step at a time, each command
// printed as a person would type it. `npm run lab:netns` walks every step; the tests in test/lab/
// call the same steps and stop where they want to look (e.g. before the security-group rules).
import { execFile } from 'node:child_process';
import { join, relative } from 'node:path';
import {
  CLIENTS,
  dhcpLease,
  EDGES,
  GATEWAYS,
  INSTANCES,
  initIdentity,
  LAB_DIR,
  ROOT,
  startAgent,
  startBroker,
  writeBrokerConfig,
} from './netnsLab.mjs';
import { apiClient, BRANCHES, until, VPCS, waitInSync, waitOnline } from './scenario.mjs';

const SAGCTL = join(ROOT, 'packages/broker/bin/sagctl.js');
/** The programs the lab runs, and the Debian/Ubuntu package of each. */
export const LAB_TOOLS = {
  ip: 'iproute2',
  nft: 'nftables',
  wg: 'wireguard-tools',
  'wireguard-go': 'wireguard-go',
  dnsmasq: 'dnsmasq',
  udhcpc: 'udhcpc (busybox)',
};
/** Where the edge agents answer probes; their WireGuard listens on the next port. */
const EDGE_LISTEN = '0.0.0.0:51820';

export const shown = (path) => relative(ROOT, path);

/** A sagctl that prints each command first and resolves with its output; throws on refusal. */
export function sagctlAt(url, token, log = console.log) {
  return (...args) => {
    const typed = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a}"`)).join(' ');
    log(`$ sagctl ${typed}`);
    const env = { ...process.env, SAG_URL: url, SAG_API_TOKEN: token };
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [SAGCTL, ...args], { cwd: ROOT, env }, (error, stdout, stderr) => {
        if (error) reject(new Error(`sagctl ${typed} failed: ${(stderr || error.message).trim()}`));
        else resolve(stdout);
      });
    });
  };
}

/** `sag-agent init` for the four devices; resolves with their identities by serial number. */
export function flashDevices(log = console.log) {
  const identities = {};
  for (const serial of [...EDGES.map((e) => e.serial), ...GATEWAYS.map((g) => g.serial)]) {
    const stateDir = join(LAB_DIR, serial);
    log(`$ sag-agent init --serial ${serial} --state-dir ${shown(stateDir)}`);
    identities[serial] = initIdentity(serial, stateDir);
    log(`  → public key ${identities[serial].publicKey}`);
  }
  return identities;
}

/**
 * Writes the broker config (both edges as access points; `keepalive` if given) and starts the
 * broker. `http` as HOST:PORT; a restart on the same data dir passes the same `configFile`.
 */
export async function startLabBroker({ identities, token, keepalive, http, write, log = console.log }) {
  const configFile = join(LAB_DIR, 'broker.json');
  if (identities) {
    writeBrokerConfig(configFile, identities, { keepalive });
    log(
      `broker config ${shown(configFile)}: access points ${EDGES.map((e) => `${e.id} ${e.probeAddress}`).join(', ')}`,
    );
  }
  const broker = await startBroker({ token, configFile, http, write });
  log(`broker: API ${broker.url}/v1, MQTT ${broker.mqttUrl}, data in ${shown(join(LAB_DIR, 'broker'))}`);
  return { ...broker, configFile };
}

/**
 * The scenario on a running broker. `mqttUrl` is what the devices dial; `onDevice(child, name)`
 * sees every agent started; `write` takes the agents' output (default: this process's stdout).
 */
export function netnsScenario({ url, token, mqttUrl, log = console.log, onDevice = () => {}, write }) {
  const api = apiClient(url, token);
  const sagctl = sagctlAt(url, token, log);
  const ids = { gateways: [], vpcs: [], groups: [], instances: [] };
  const step = (n, text) => log(`step ${n}: ${text}`);

  /** The id from a create command's table ("id  sag-…"). */
  async function created(...args) {
    const output = await sagctl(...args);
    const id = /^id\s+(\S+)/m.exec(output)?.[1];
    if (!id) throw new Error(`sagctl ${args.slice(0, 2).join(' ')} printed no id:\n${output}`);
    log(`  → ${id}`);
    return id;
  }

  function startDevice(namespace, serial, { listen } = {}) {
    const stateDir = join(LAB_DIR, serial);
    const role = listen ? ` --role edge --listen ${listen}` : '';
    log(
      `$ ip netns exec ${namespace} sag-agent run --state-dir ${shown(stateDir)} --broker ${mqttUrl} ` +
        `--dataplane linux${role}    # with a private /var/run/wireguard`,
    );
    const child = startAgent({
      namespace,
      stateDir,
      brokerUrl: mqttUrl,
      name: serial,
      write,
      ...(listen ? { role: 'edge', listen } : {}),
    });
    onDevice(child, `agent ${serial} in ${namespace}`);
    return child;
  }

  const accessTest = (protocol, port) => [
    'access-test',
    '--from-gateway',
    ids.gateways[0],
    '--from-ip',
    GATEWAYS[0].lan.pool.split('-')[0],
    '--to-instance',
    ids.instances[0],
    '--protocol',
    protocol,
    ...(port ? ['--port', String(port)] : []),
  ];
  const indented = (text) => log(text.trimEnd().replace(/^(?=.)/gm, '  '));

  return {
    ids,
    api,
    sagctl,
    created,

    /** Both edge agents, `--role edge`, in their namespaces. */
    startEdges() {
      for (const edge of EDGES) startDevice(edge.namespace, edge.serial, { listen: EDGE_LISTEN });
    },

    /** Step 1: a gateway for each branch. */
    async orderGateways() {
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
    },

    /** Step 2: bind each device, start its agent, wait until both are online. */
    async bindAndStartGateways() {
      for (const [index, gateway] of GATEWAYS.entries()) {
        step(2, `bind device ${gateway.serial} and start it in ${gateway.namespace}`);
        const identity = shown(join(LAB_DIR, gateway.serial));
        await sagctl('gateway', 'bind-device', ids.gateways[index], '--identity', identity);
        startDevice(gateway.namespace, gateway.serial);
      }
      await waitOnline(api, ids, step);
    },

    /** Step 3: activate, WAN (DHCP or static), LAN with a DHCP pool; resolves with ms until both are in sync. */
    async activateGateways() {
      const since = Date.now();
      for (const [index, gateway] of GATEWAYS.entries()) {
        step(
          3,
          `activate ${gateway.name}; WAN ${gateway.wanPort}, LAN ${gateway.lan.address} with a DHCP pool`,
        );
        await sagctl('gateway', 'activate', ids.gateways[index]);
        const lan = `${gateway.lan.interface}:${gateway.lan.address}:${gateway.lan.pool}`;
        await sagctl('gateway', 'ports', ids.gateways[index], '--wan', gateway.wanPort, '--lan', lan);
      }
      await waitInSync(api, ids, 3, since, step);
      return Date.now() - since;
    },

    /** Step 4: the VPCs in a CEN, the branch blocks, one CCN attached to the CEN. */
    async configureNetwork() {
      const since = Date.now();
      step(4, 'the VPCs in a CEN, the branch blocks, one CCN attached to the CEN');
      const cen = await created('cen', 'create', '--name', 'Company CEN');
      for (const vpc of VPCS) {
        const id = await created(
          'vpc',
          'create',
          '--name',
          vpc.name,
          '--region',
          vpc.region,
          '--cidr',
          vpc.cidr,
        );
        ids.vpcs.push(id);
        await sagctl('cen', 'attach', cen, '--vpc', id);
      }
      const ccn = await created('ccn', 'create', '--name', 'Branches', '--area', 'china-mainland');
      for (const [index, branch] of BRANCHES.entries()) {
        const gateway = ids.gateways[index];
        await sagctl('gateway', 'network', gateway, '--cidr', branch.cidr, '--ccn', ccn, '--cen', cen);
      }
      await waitInSync(api, ids, 4, since, step);
    },

    /** Step 5, first half: a server in each VPC, in a security group of its own (no rule yet). */
    async createServers() {
      step(5, 'a server in each VPC, in a security group of its own');
      for (const [index, vpc] of VPCS.entries()) {
        const vpcId = ids.vpcs[index];
        const group = await created(
          'security-group',
          'create',
          '--name',
          `${vpc.name} servers`,
          '--vpc',
          vpcId,
        );
        ids.groups.push(group);
        ids.instances.push(
          await created(
            'instance',
            'create',
            '--name',
            `${vpc.name} server`,
            '--vpc',
            vpcId,
            '--ip',
            vpc.instanceIp,
            '--security-group',
            group,
          ),
        );
      }
    },

    /** The access test from the Hangzhou pool's first address to the Shanghai server, printed. */
    async accessTest(protocol = 'tcp', port = 80) {
      indented(await sagctl(...accessTest(protocol, port)));
    },

    /** Step 5 proper: an ingress accept rule for each branch block (default both) on every group. */
    async authorizeBranches(branches = BRANCHES) {
      const blocks = branches === BRANCHES ? 'both branch blocks' : branches.map((b) => b.cidr).join(', ');
      step(5, `authorize ${blocks} on every security group`);
      for (const group of ids.groups) {
        for (const branch of branches) {
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
    },

    /** Waits for both gateways to apply what changed since `since` (logged under `stepNumber`). */
    waitGatewaysInSync: (stepNumber, since) => waitInSync(api, ids, stepNumber, since, step),

    /** Step 6: the analysis, and a live probe from the Hangzhou gateway. */
    async testAccess() {
      step(6, 'test access: the analysis, and a live probe from the Hangzhou gateway');
      await this.accessTest();
      const probe = ['gateway', 'probe', ids.gateways[0], '--destination', INSTANCES[0].ip];
      indented(await sagctl(...probe, '--protocol', 'tcp', '--port', '80'));
    },

    /** Edges report through GET /v1/access-points where the broker has it. */
    async waitEdgesInSync() {
      const edgeIds = EDGES.map((e) => e.id).join(', ');
      try {
        await api.get('/v1/access-points');
      } catch (err) {
        if (err.status !== 404) throw err;
        log(`note: this broker has no GET /v1/access-points; not waiting for ${edgeIds} to report in sync`);
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
      log(`edges ${edgeIds}: in sync`);
    },

    /** A DHCP lease for each branch client from its gateway; resolves with addresses by namespace. */
    async leases() {
      const addresses = {};
      for (const client of CLIENTS) {
        log(
          `$ ip netns exec ${client.namespace} udhcpc -i eth0 -q -n -s ${shown(join(LAB_DIR, 'udhcpc.script'))}`,
        );
        addresses[client.namespace] = await dhcpLease(client.namespace, { timeoutSeconds: 15 });
        log(
          `  → ${client.namespace} eth0 ${addresses[client.namespace]} (from ${client.gateway}'s DHCP pool)`,
        );
      }
      return addresses;
    },
  };
}
