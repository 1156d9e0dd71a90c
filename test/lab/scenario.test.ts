// The reference scenario with real packets on the namespace lab: the broker on the host, two edge
// agents and two gateway agents on the linux data plane, the scenario walked with sagctl. One lab
// for the whole file; the tests run in order and the last ones are destructive (broker stopped and
// restarted, then the active edge deleted). Measured figures go to .lab-netns/figures.json.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceLab } from '../../packages/agent/src/dataplane/linux/netns.js';
import {
  BROKER_ADDRESS,
  buildTopology,
  CLIENTS,
  EDGES,
  GATEWAYS,
  INSTANCES,
  inNamespace,
  LAB_DIR,
  processesIn,
  removeNamespace,
  startInstanceServers,
  stopChild,
  teardown,
} from '../../scripts/netnsLab.mjs';
import { flashDevices, LAB_TOOLS, netnsScenario, startLabBroker } from '../../scripts/netnsScenario.mjs';
import { BRANCHES } from '../../scripts/scenario.mjs';
import { freeLoopbackPorts } from '../support/freePorts.js';
import { sleep, waitFor } from '../support/waitFor.js';
import {
  nftTable,
  routeDevice,
  routesByProtocol,
  sagLinkIndexes,
  tunnelProcesses,
  wireguardInterfaces,
} from './kernelState.js';
import { httpGet, longestGap, ping, startPingTimeline, tcpConnects } from './traffic.js';

const lab = namespaceLab([...Object.keys(LAB_TOOLS), 'ping', 'curl']);
/** Fast enough that failover is measured in hundreds of milliseconds. */
const KEEPALIVE = { intervalMs: 200, multiplier: 3, lossWindow: 20, holdDownMs: 2000 };
const TOKEN = 'netns-lab-test-token-0123456789';
const LOG_FILE = join(LAB_DIR, 'test.log');
const FIGURES_FILE = join(LAB_DIR, 'figures.json');
const [HZ, NB] = GATEWAYS;
const [HZ_CLIENT, NB_CLIENT] = CLIENTS.map((c) => c.namespace);
const [SHANGHAI] = INSTANCES;
const [EDGE_A, EDGE_B] = EDGES;
const DEVICE_NAMESPACES = [...GATEWAYS, ...EDGES].map((d) => d.namespace);
const HEADLESS_PINGS = 305; // every 200 ms: 61 s
/**
 * Detection is interval × multiplier (600 ms) after the last reply; the rest is slack for the
 * route move, the 20 ms ping spacing and a loaded 2-core host (seen: 601 ms).
 */
const FAILOVER_BOUND_MS = 1000;

/** What the broker, the agents and sagctl print goes to the log file, not the test report. */
const writeLog = (text: string) => appendFileSync(LOG_FILE, text);
const log = (text: string) => writeLog(`${text}\n`);
const figures: Record<string, unknown> = {};
function figure(key: string, value: unknown, line: string) {
  figures[key] = value;
  writeFileSync(FIGURES_FILE, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`lab figure: ${line}`);
}

interface LabState {
  http: string;
  broker: { child: import('node:child_process').ChildProcess; url: string; mqttUrl: string };
  scenario: ReturnType<typeof netnsScenario>;
  addresses: Record<string, string>;
}
const ctx = {} as LabState;
const ids = () => ctx.scenario.ids;
const api = () => ctx.scenario.api;
const hostOf = (address: string) => address.split('/')[0];

interface Snapshot {
  processes: Record<string, Record<string, number>>;
  links: Record<string, Record<string, number>>;
  revisions: Record<string, number | null>;
}
let beforeRestart: Snapshot;

async function snapshot(): Promise<Snapshot> {
  const revisions: Record<string, number | null> = {};
  for (const id of ids().gateways)
    revisions[id] = (await api().get(`/v1/gateways/${id}/status`)).appliedRevision;
  for (const point of (await api().get('/v1/access-points')).items)
    revisions[point.id] = point.appliedRevision;
  return {
    processes: Object.fromEntries(DEVICE_NAMESPACES.map((ns) => [ns, tunnelProcesses(ns)])),
    links: Object.fromEntries(DEVICE_NAMESPACES.map((ns) => [ns, sagLinkIndexes(ns)])),
    revisions,
  };
}

/** Every gateway and edge online and in sync with its desired config. */
async function everyDeviceInSync(): Promise<boolean> {
  for (const id of ids().gateways) {
    const status = await api().get(`/v1/gateways/${id}/status`);
    if (status.presence !== 'online' || status.sync !== 'in-sync') return false;
  }
  const points = (await api().get('/v1/access-points')).items;
  return points.every(
    (p: { presence: string; sync: string }) => p.presence === 'online' && p.sync === 'in-sync',
  );
}

describe.skipIf(!lab.available)(`the reference scenario with real traffic${lab.skipNote}`, () => {
  beforeAll(async () => {
    const started = Date.now();
    teardown();
    rmSync(LAB_DIR, { recursive: true, force: true });
    mkdirSync(LAB_DIR, { recursive: true });
    await buildTopology({ log });
    await startInstanceServers();
    const [port] = (await freeLoopbackPorts(1)).tcp;
    ctx.http = `127.0.0.1:${port}`;
    const identities = flashDevices(log);
    ctx.broker = await startLabBroker({
      identities,
      token: TOKEN,
      keepalive: KEEPALIVE,
      http: ctx.http,
      write: writeLog,
      log,
    });
    const mqttUrl = `mqtt://${BROKER_ADDRESS}:${new URL(ctx.broker.mqttUrl).port}`;
    ctx.scenario = netnsScenario({ url: ctx.broker.url, token: TOKEN, mqttUrl, log, write: writeLog });
    ctx.scenario.startEdges();
    await ctx.scenario.orderGateways();
    await ctx.scenario.bindAndStartGateways();
    const activateMs = await ctx.scenario.activateGateways();
    await ctx.scenario.configureNetwork();
    await ctx.scenario.createServers();
    await ctx.scenario.waitEdgesInSync();
    ctx.addresses = await ctx.scenario.leases();
    const setupS = (Date.now() - started) / 1000;
    figure(
      'labSetupSeconds',
      setupS,
      `lab setup (topology, broker, 4 agents, steps 1-5, leases): ${setupS} s`,
    );
    figure('activateToInSyncMs', activateMs, `activate + ports → both gateways in sync: ${activateMs} ms`);
  }, 180_000);

  afterAll(() => teardown());

  it("gives each client an address from its gateway's DHCP pool and a default route via the gateway's LAN address", async () => {
    for (const [index, client] of CLIENTS.entries()) {
      const config = (await api().get(`/v1/gateways/${ids().gateways[index]}/config`)).config;
      const lan = config.ports.lan[0];
      const lease = ctx.addresses[client.namespace];
      const last = (ip: string) => Number(ip.split('.')[3]);
      expect(hostOf(lease).split('.').slice(0, 3)).toEqual(lan.dhcp.start.split('.').slice(0, 3));
      expect(last(hostOf(lease))).toBeGreaterThanOrEqual(last(lan.dhcp.start));
      expect(last(hostOf(lease))).toBeLessThanOrEqual(last(lan.dhcp.end));
      const route = inNamespace(client.namespace, 'ip', ['route', 'show', 'default']).stdout;
      expect(route).toMatch(
        new RegExp(`^default via ${hostOf(lan.address).replaceAll('.', '\\.')} dev eth0`),
      );
    }
  });

  it("sets the gateways' WAN as their ports say: Hangzhou by the agent's DHCP lease, Ningbo static", () => {
    const defaults = (ns: string) =>
      JSON.parse(inNamespace(ns, 'ip', ['-j', 'route', 'show', 'default']).stdout || '[]') as {
        gateway: string;
        dev: string;
        protocol: string;
      }[];
    expect(defaults('osl-hz')).toContainEqual(
      expect.objectContaining({ gateway: BROKER_ADDRESS, dev: 'wan0', protocol: 'dhcp' }),
    );
    // The lease the agent's udhcpc got from the ISP (a reservation for this gateway's wan0).
    const clients = processesIn('osl-hz').filter((p: { comm: string }) => p.comm === 'udhcpc');
    expect(clients.map((p: { args: string[] }) => p.args.join(' '))).toEqual([
      expect.stringContaining('-i wan0'),
    ]);
    expect(defaults('osl-nb')).toContainEqual(
      expect.objectContaining({ gateway: BROKER_ADDRESS, dev: 'wan0', protocol: '222' }),
    );
  });

  it('blocks TCP and ICMP from the Hangzhou client to the Shanghai instance until its security group accepts 172.16.0.0/16', async () => {
    expect((await httpGet(HZ_CLIENT, SHANGHAI.ip)).code).not.toBe(0);
    expect((await ping(HZ_CLIENT, SHANGHAI.ip)).received).toBe(0);

    await ctx.scenario.authorizeBranches([BRANCHES[0]]);
    await ctx.scenario.waitEdgesInSync();

    const http = await httpGet(HZ_CLIENT, SHANGHAI.ip);
    expect(http.stdout).toBe(`hello from ${SHANGHAI.ip}\n`);
    const replies = await ping(HZ_CLIENT, SHANGHAI.ip, { count: 3 });
    expect(replies.received, replies.output).toBe(3);
  });

  it('lets the Hangzhou and Ningbo clients reach each other', async () => {
    const [hz, nb] = [hostOf(ctx.addresses[HZ_CLIENT]), hostOf(ctx.addresses[NB_CLIENT])];
    const there = await ping(HZ_CLIENT, nb, { count: 3 });
    expect(there.received, there.output).toBe(3);
    const back = await ping(NB_CLIENT, hz, { count: 3 });
    expect(back.received, back.output).toBe(3);
  });

  it('programs the kernel of the Hangzhou gateway and of edge-a as the broker shows their configs', async () => {
    const points = new Map(
      (await api().get('/v1/access-points')).items.map((p: { id: string }) => [p.id, p]),
    ) as Map<string, { tunnelPublicKey: string; address: string }>;
    const wireguardPort = (address: string) => {
      const [ip, port] = address.split(':');
      return `${ip}:${Number(port) + 1}`;
    };
    const gateway = wireguardInterfaces(HZ.namespace);
    for (const [name, edge] of [
      ['sag-wg0', EDGE_A],
      ['sag-wg1', EDGE_B],
    ] as const) {
      const point = points.get(edge.id)!;
      expect(gateway.get(name)?.peers.map((p) => [p.publicKey, p.endpoint])).toEqual([
        [point.tunnelPublicKey, wireguardPort(point.address)],
      ]);
    }
    expect(gateway.get('sag-wg0')?.peers[0].endpoint).toBe('203.0.113.11:51821');

    const desired = (await api().get(`/v1/gateways/${ids().gateways[0]}/config`)).config;
    const routes = routesByProtocol(HZ.namespace, 222);
    expect(Object.fromEntries(routes)).toEqual(
      Object.fromEntries(desired.routes.map((r: { destination: string }) => [r.destination, 'sag-wg0'])),
    );
    expect(nftTable(HZ.namespace, 'opensag')).not.toBeNull();

    const edgeConfig = (await api().get(`/v1/access-points/${EDGE_A.id}/config`)).config.edge;
    const edge = wireguardInterfaces(EDGE_A.namespace).get('sag-edge0');
    const peers = (list: { publicKey: string; allowedIps: string[] }[]) =>
      Object.fromEntries(list.map((p) => [p.publicKey, [...p.allowedIps].sort()]));
    expect(peers(edge?.peers ?? [])).toEqual(peers(edgeConfig.peers));
    expect(edge?.publicKey).toBe(points.get(EDGE_A.id)!.tunnelPublicKey);
    const hzPeer = edgeConfig.peers.find((p: { gatewayId: string }) => p.gatewayId === ids().gateways[0]);
    expect(hzPeer.publicKey).toBe(gateway.get('sag-wg0')?.publicKey);
    expect(nftTable(EDGE_A.namespace, 'opensag_edge')).not.toBeNull();
  });

  it('drops real tcp/22 from the Hangzhou client once a gateway ACL says so, and live probes see it', async () => {
    expect((await tcpConnects(HZ_CLIENT, SHANGHAI.ip, 22)).connected).toBe(true);
    const { sagctl, created } = ctx.scenario;
    const acl = await created('acl', 'create', '--name', 'Branch firewall');
    await sagctl(
      ...['acl', 'add-rule', acl, '--name', 'no-ssh', '--direction', 'out', '--policy', 'drop'],
      ...['--priority', '10', '--protocol', 'tcp', '--dest', '10.1.0.0/16', '--dest-ports', '22/22'],
    );
    const since = Date.now();
    await sagctl('gateway', 'acl', ids().gateways[0], '--acl', acl);
    await ctx.scenario.waitGatewaysInSync(5, since);

    const ssh = await tcpConnects(HZ_CLIENT, SHANGHAI.ip, 22);
    expect(ssh.connected, ssh.said).toBe(false);
    expect((await httpGet(HZ_CLIENT, SHANGHAI.ip)).stdout).toBe(`hello from ${SHANGHAI.ip}\n`);
    const ruleset = inNamespace(HZ.namespace, 'nft', ['list', 'ruleset']).stdout;
    expect(ruleset).toMatch(/ip daddr 10\.1\.0\.0\/16 tcp dport 22 .*drop/);

    const probes = `/v1/gateways/${ids().gateways[0]}/probes`;
    const tcp = await api().post(probes, { destination: SHANGHAI.ip, protocol: 'tcp', port: 22 });
    expect(tcp).toMatchObject({ reachable: false, seenBy: HZ.serial });
    const icmp = await api().post(probes, { destination: SHANGHAI.ip, protocol: 'icmp' });
    expect(icmp).toMatchObject({ reachable: true, seenBy: HZ.serial });
  });

  it('keeps traffic flowing for more than 60 s while the broker is down (headless)', async () => {
    beforeRestart = await snapshot();
    const stoppedAt = Date.now();
    stopChild(ctx.broker.child);
    await expect(fetch(`${ctx.broker.url}/healthz`)).rejects.toThrow();

    let curls = 0;
    let failedCurls = 0;
    let pinging = true;
    const pings = ping(HZ_CLIENT, SHANGHAI.ip, { count: HEADLESS_PINGS, intervalS: 0.2, waitS: 1 }).finally(
      () => {
        pinging = false;
      },
    );
    while (pinging) {
      curls++;
      if ((await httpGet(HZ_CLIENT, SHANGHAI.ip)).stdout !== `hello from ${SHANGHAI.ip}\n`) failedCurls++;
      await Promise.race([sleep(5000), pings]);
    }
    const { sent, received, output } = await pings;
    const seconds = Math.round((Date.now() - stoppedAt) / 100) / 10;
    figure(
      'headless',
      { seconds, pingsSent: sent, pingsLost: sent - received, curls, failedCurls },
      `headless ${seconds} s: ${sent - received}/${sent} pings lost (every 200 ms), ${failedCurls}/${curls} curls failed`,
    );
    expect(seconds).toBeGreaterThanOrEqual(60);
    expect(sent).toBe(HEADLESS_PINGS);
    expect(received, output.split('\n').slice(-3).join('\n')).toBe(sent);
    expect(failedCurls).toBe(0);
  }, 120_000);

  it('re-syncs every device after a broker restart without restarting any tunnel or changing applied revisions', async () => {
    const restartedAt = Date.now();
    ctx.broker = await startLabBroker({ token: TOKEN, http: ctx.http, write: writeLog, log });
    await waitFor('every gateway and edge online and in sync', everyDeviceInSync, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const resyncMs = Date.now() - restartedAt;
    figure(
      'brokerRestartResyncMs',
      resyncMs,
      `broker restart → every device online and in sync: ${resyncMs} ms`,
    );

    const after = await snapshot();
    expect(after.revisions).toEqual(beforeRestart.revisions);
    expect(after.links).toEqual(beforeRestart.links);
    expect(after.processes).toEqual(beforeRestart.processes);
    expect(Object.keys(after.links[HZ.namespace]).sort()).toEqual(['sag-wg0', 'sag-wg1']);
    expect(Object.keys(after.links[EDGE_A.namespace])).toEqual(['sag-edge0']);
  }, 90_000);

  it(`moves Hangzhou traffic to the standby edge within ${FAILOVER_BOUND_MS} ms when the active edge dies`, async () => {
    const gatewayId = ids().gateways[0];
    expect(routeDevice(HZ.namespace, SHANGHAI.ip)).toBe('sag-wg0');
    const timeline = startPingTimeline(HZ_CLIENT, SHANGHAI.ip, 0.02);
    await sleep(1500);
    const killedAt = Date.now();
    removeNamespace(EDGE_A.namespace, { graceMs: 0 }); // a crash: SIGKILL, then its links vanish
    await waitFor(
      'the route to move to sag-wg1',
      () => routeDevice(HZ.namespace, SHANGHAI.ip) === 'sag-wg1',
      {
        timeoutMs: 10_000,
      },
    );
    await sleep(2000);
    const { sent, received, replies } = await timeline.stop();
    const gapMs = longestGap(replies, killedAt);
    figure(
      'failover',
      { outageMs: gapMs, pingsSent: sent, pingsLost: sent - received, intervalMs: 20, keepalive: KEEPALIVE },
      `failover outage ${gapMs} ms (longest gap between replies, ping every 20 ms; ${sent - received}/${sent} lost; keepalive 200 ms × 3)`,
    );
    expect(replies.filter((t) => t < killedAt).length).toBeGreaterThan(20);
    expect(replies.filter((t) => t > killedAt + gapMs).length).toBeGreaterThan(20);
    expect(gapMs).toBeLessThanOrEqual(FAILOVER_BOUND_MS);
    expect((await httpGet(HZ_CLIENT, SHANGHAI.ip)).stdout).toBe(`hello from ${SHANGHAI.ip}\n`);

    const failover = await waitFor('the FAILOVER event', async () => {
      const events = await api().get(`/v1/events?resourceId=${gatewayId}&category=device&limit=50`);
      return events.items.find((e: { action: string }) => e.action === 'tunnel.failover');
    });
    expect(failover.details).toMatchObject({ serialNumber: HZ.serial, accessPoint: EDGE_B.id });
    const tunnels = await waitFor('the active tunnel reported down', async () => {
      const status = await api().get(`/v1/gateways/${gatewayId}/status`);
      return status.tunnels.find((t: { accessPoint: string; state: string }) => t.accessPoint === EDGE_A.id)
        ?.state === 'down'
        ? status.tunnels
        : null;
    });
    expect(
      tunnels.map((t: { accessPoint: string; role: string; state: string }) => [
        t.accessPoint,
        t.role,
        t.state,
      ]),
    ).toEqual([
      [EDGE_A.id, 'active', 'down'],
      [EDGE_B.id, 'standby', 'up'],
    ]);
    // Ningbo had edge-a as its active access point too: it moves on its own probes.
    await waitFor(
      'Ningbo to route through sag-wg1',
      () => routeDevice(NB.namespace, INSTANCES[1].ip) === 'sag-wg1',
    );
  }, 60_000);
});
