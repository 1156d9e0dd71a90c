// The namespace lab's bare topology, before any OpenSAG process runs in it: real packets between
// the namespaces, the VPC route table's failover from edge-a to edge-b, the clients' DHCP hook,
// and a teardown that leaves nothing behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespaceLab } from '../../packages/agent/src/dataplane/linux/netns.js';
import {
  buildTopology,
  dhcpLease,
  HOST_LINK,
  host,
  INSTANCES,
  inNamespace,
  LAB_DIR,
  labNamespaces,
  NAMESPACES,
  removeNamespace,
  spawnInNamespace,
  startInstanceServers,
  teardown,
  waitForLine,
} from '../../scripts/netnsLab.mjs';

const lab = namespaceLab(['ip', 'ping', 'curl', 'udhcpc', 'dnsmasq']);
const [SHANGHAI] = INSTANCES;
/** A branch address parked on edge-b, so replies to it show which edge the instance routes through. */
const BRANCH_PROBE = '172.16.0.250';

const ping = (ns: string, to: string, from?: string) =>
  inNamespace(ns, 'ping', ['-c', '1', '-W', '2', ...(from ? ['-I', from] : []), to]).code;

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!lab.available)(`the namespace lab topology${lab.skipNote}`, () => {
  beforeAll(async () => {
    await buildTopology();
    await startInstanceServers();
  }, 60_000);

  afterAll(() => teardown());

  it('creates every namespace of the lab', () => {
    expect(labNamespaces().sort()).toEqual([...NAMESPACES].sort());
  });

  it('edge-a reaches the Shanghai instance: ping, HTTP on port 80 and the banner on tcp/22', () => {
    expect(ping('osl-edge-a', SHANGHAI.ip)).toBe(0);
    const http = inNamespace('osl-edge-a', 'curl', ['-sS', '-m', '3', `http://${SHANGHAI.ip}/`]);
    expect(http.stdout).toBe(`hello from ${SHANGHAI.ip}\n`);
    const banner = inNamespace('osl-edge-a', 'curl', ['-sS', '-m', '3', `telnet://${SHANGHAI.ip}:22`]);
    expect(banner.stdout).toMatch(/^SSH-2\.0-/);
  });

  it('the host reaches the edges and the gateways reach the broker address over the internet bridge', () => {
    expect(host('ping', ['-c', '1', '-W', '2', '203.0.113.11']).code).toBe(0);
    expect(ping('osl-hz', HOST_LINK.address)).toBe(0);
    expect(ping('osl-nb', '203.0.113.12')).toBe(0);
  });

  it('a client gets its address and default route from a DHCP server on its gateway, leaving resolv.conf alone', async () => {
    const resolvConf = readFileSync('/etc/resolv.conf', 'utf8');
    inNamespace('osl-hz', 'ip', ['address', 'add', '172.16.0.1/24', 'dev', 'lan0']);
    const dnsmasq = spawnInNamespace('osl-hz', 'dnsmasq', [
      '--keep-in-foreground',
      '--log-dhcp',
      '--log-facility=-',
      '--conf-file=/dev/null',
      '--port=0',
      '--interface=lan0',
      '--bind-interfaces',
      '--dhcp-range=172.16.0.100,172.16.0.199,255.255.255.0,1h',
      `--dhcp-leasefile=${join(LAB_DIR, 'topology-test.leases')}`,
    ]);
    dnsmasq.stdout?.resume();
    await waitForLine(dnsmasq, /DHCP, IP range/, 5000, 'dnsmasq in osl-hz', dnsmasq.stderr);
    const address = await dhcpLease('osl-hz-client');
    expect(address).toMatch(/^172\.16\.0\.1\d\d\/24$/);
    expect(inNamespace('osl-hz-client', 'ip', ['route', 'show', 'default']).stdout).toMatch(
      /default via 172\.16\.0\.1 dev eth0/,
    );
    expect(ping('osl-hz-client', '172.16.0.1')).toBe(0);
    expect(readFileSync('/etc/resolv.conf', 'utf8')).toBe(resolvConf);
  });

  it('names the client when no DHCP server answers', async () => {
    await expect(dhcpLease('osl-nb-client', { timeoutSeconds: 2 })).rejects.toThrow(
      /client osl-nb-client got no DHCP lease on eth0 within 2 s/,
    );
  });

  it('returns branch traffic through edge-a while it exists, through edge-b once edge-a is gone', async () => {
    inNamespace('osl-edge-b', 'ip', ['address', 'add', `${BRANCH_PROBE}/32`, 'dev', 'lo']);
    expect(ping('osl-edge-b', SHANGHAI.ip)).toBe(0);
    // The instance's route table prefers edge-a (metric 10), which knows no route back to the branch.
    expect(ping('osl-edge-b', SHANGHAI.ip, BRANCH_PROBE)).not.toBe(0);

    removeNamespace('osl-edge-a');
    await until(
      'edge-a link to vanish from the instance',
      () => inNamespace(SHANGHAI.namespace, 'ip', ['link', 'show', 'eth-a']).code !== 0,
    );

    expect(ping('osl-edge-b', SHANGHAI.ip, BRANCH_PROBE)).toBe(0);
    const http = inNamespace('osl-edge-b', 'curl', [
      '-sS',
      '-m',
      '3',
      '--interface',
      BRANCH_PROBE,
      `http://${SHANGHAI.ip}/`,
    ]);
    expect(http.stdout).toBe(`hello from ${SHANGHAI.ip}\n`);
  });

  it('teardown leaves no osl- namespace and no host link, and may run twice', () => {
    teardown();
    teardown();
    expect(labNamespaces()).toEqual([]);
    expect(host('ip', ['link', 'show', HOST_LINK.name]).code).not.toBe(0);
  });
});
