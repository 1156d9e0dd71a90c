import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity } from '@opensag/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../broker.js';
import { DEFAULT_KEEPALIVE } from '../config.js';
import { DEFAULT_QUOTAS } from '../domain/index.js';
import { main } from './cli.js';

/**
 * SPEC §2 steps 1-6 with sagctl alone, against a whole broker (startBroker: SQLite data dir,
 * generated token file, MQTT and the embedded access point on free ports), as a new user would
 * follow the README, mistakes included. The devices themselves are not run here (that is the
 * end-to-end test's job): where the tutorial needs them online and applying their config, the
 * test records that in the control plane exactly as the device link would.
 */

let broker: RunningBroker;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sagctl-tutorial-'));
  const loopback = { host: '127.0.0.1', port: 0 };
  broker = await startBroker({
    dataDir: join(dir, 'data'),
    http: loopback,
    mqtt: loopback,
    accessPoint: loopback,
    accessPoints: [],
    enabledAreas: ['china-mainland'],
    quotas: { ...DEFAULT_QUOTAS },
    keepalive: DEFAULT_KEEPALIVE,
    apiToken: null,
    logLevel: 'silent',
    rateLimitPerMinute: 100_000,
  });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A command line as typed in a shell: words split on spaces, "double quotes" kept together. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** sagctl as the README sets it up: SAG_URL in the environment, the token from the data dir. */
async function sagctl(line: string) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (text: string) => {
      stdout += text;
    },
    stderr: (text: string) => {
      stderr += text;
    },
    env: { SAG_URL: broker.httpUrl },
    homeDir: dir,
  };
  const code = await main([...words(line), '--token-file', join(dir, 'data', 'api-token')], io);
  return { code, stdout, stderr };
}

/** Runs a command that must succeed, with --json, and answers the parsed API answer. */
async function json(line: string) {
  const result = await sagctl(`--json ${line}`);
  if (result.code !== 0) throw new Error(`sagctl ${line} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The devices connect and apply their desired config, recorded as the device link would. */
function devicesApplyTheirConfig(devices: { id: string; serial: string }[]) {
  for (const { id, serial } of devices) {
    const desired = broker.controlPlane.configRecord(id)!;
    broker.controlPlane.recordDevice(id, serial, {
      presence: 'online',
      lastSeenAt: new Date().toISOString(),
      appliedRevision: desired.revision,
      appliedHash: desired.hash,
      report: {
        tunnels: [
          {
            accessPoint: 'ap-embedded',
            role: 'active',
            state: 'up',
            rttMs: 1.23456,
            lossPct: 0,
            jitterMs: 0.5,
          },
        ],
        ports: [
          { name: 'wan0', kind: 'wan', state: 'up', mode: 'dhcp', address: '198.51.100.7/24', error: '' },
        ],
      },
    });
  }
}

describe('the tutorial with sagctl alone', () => {
  const ids: Record<string, string> = {};
  const hz = { serial: 'SAGHZ0001', ...generateIdentity() };
  const nb = { serial: 'SAGNB0001', ...generateIdentity() };
  const order = '--spec sag-100wm --bandwidth 2 --months 1';
  const devices = () => [
    { id: ids.hz, serial: hz.serial },
    { id: ids.nb, serial: nb.serial },
  ];

  it('step 1: orders both gateways; a wrong area is refused with INVALID_AREA', async () => {
    const wrongArea = await sagctl(`gateway create --name "Hangzhou branch" --area europe ${order}`);
    expect(wrongArea.code).toBe(1);
    expect(wrongArea.stderr).toMatch(/^sagctl: INVALID_AREA: .*europe/);
    expect(wrongArea.stdout).toBe('');

    const created = await sagctl(`gateway create --name "Hangzhou branch" --area china-mainland ${order}`);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^lifecycle\s+ordered$/m);
    expect(created.stdout).toMatch(/^name\s+Hangzhou branch$/m);
    ids.hz = /^id\s+(sag-\S+)$/m.exec(created.stdout)![1];
    const ningbo = await json(`gateway create --name "Ningbo branch" --area china-mainland ${order}`);
    expect(ningbo.lifecycle).toBe('ordered');
    ids.nb = ningbo.id;

    const list = await sagctl('gateway list');
    expect(list.stdout).toMatch(
      /^ID\s+NAME\s+AREA\s+SPEC\s+MBPS\s+LIFECYCLE\s+PRESENCE\s+PRIVATE CIDRS\s+CCN/,
    );
    expect(list.stdout).toMatch(
      new RegExp(`^${ids.hz}\\s+Hangzhou branch\\s+china-mainland\\s+sag-100wm\\s+2\\s+ordered`, 'm'),
    );
    expect(list.stdout).toMatch(new RegExp(`^${ids.nb}\\s+Ningbo branch\\s`, 'm'));
  });

  it('step 2: activating before binding is INVALID_STATE; binding makes the gateway shipped', async () => {
    const early = await sagctl(`gateway activate ${ids.hz}`);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^sagctl: INVALID_STATE: .*bind a device first/);

    // What `sag-agent init` printed when the Hangzhou box was flashed.
    const identityFile = join(dir, 'hz-identity.json');
    writeFileSync(identityFile, JSON.stringify({ serialNumber: hz.serial, publicKey: hz.publicKey }));
    const bound = await sagctl(`gateway bind-device ${ids.hz} --identity ${identityFile}`);
    expect(bound.code).toBe(0);
    expect(bound.stdout).toMatch(/^lifecycle\s+shipped$/m);
    expect(bound.stdout).toMatch(/^serial number\s+SAGHZ0001$/m);
    const other = await json(
      `gateway bind-device ${ids.nb} --serial ${nb.serial} --public-key ${nb.publicKey}`,
    );
    expect(other.lifecycle).toBe('shipped');

    const ports = await sagctl(
      `gateway ports ${ids.hz} --wan wan0:dhcp --lan lan0:172.16.0.1/24:172.16.0.100-172.16.0.200`,
    );
    expect(ports.code).toBe(0);
    expect(ports.stdout).toMatch(/^wan0\s+dhcp\s/m);
    expect(ports.stdout).toMatch(/^lan0\s+172\.16\.0\.1\/24\s+172\.16\.0\.100-172\.16\.0\.200\s+1440$/m);
  });

  it('step 3: activates both gateways', async () => {
    for (const id of [ids.hz, ids.nb]) {
      const active = await json(`gateway activate ${id}`);
      expect(active.lifecycle).toBe('active');
      expect(active.expiresAt).not.toBeNull();
    }
  });

  it('step 4: VPCs in a CEN, one CCN, the private blocks; a conflicting block names both gateways', async () => {
    ids.cen = (await json('cen create --name "Company CEN"')).id;
    ids.shanghai = (
      await json('vpc create --name "Shanghai VPC" --region cn-shanghai --cidr 10.1.0.0/16')
    ).id;
    ids.beijing = (await json('vpc create --name "Beijing VPC" --region cn-beijing --cidr 10.2.0.0/16')).id;
    for (const vpc of [ids.shanghai, ids.beijing]) {
      expect((await sagctl(`cen attach ${ids.cen} --vpc ${vpc}`)).code).toBe(0);
    }
    ids.ccn = (await json('ccn create --name "Branches CCN" --area china-mainland')).id;
    const hzNet = await sagctl(
      `gateway network ${ids.hz} --cidr 172.16.0.0/16 --ccn ${ids.ccn} --cen ${ids.cen}`,
    );
    expect(hzNet.code).toBe(0);
    expect(hzNet.stdout).toMatch(new RegExp(`^ccn\\s+${ids.ccn}$`, 'm'));

    // The founding tutorial's Hangzhou block would swallow Ningbo's: the broker says which and where.
    const conflict = await sagctl(`gateway network ${ids.nb} --cidr 172.16.0.0/12 --ccn ${ids.ccn}`);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^sagctl: CIDR_CONFLICT: /);
    for (const part of [
      '172.16.0.0/12',
      '172.16.0.0/16',
      ids.hz,
      ids.nb,
      'Hangzhou branch',
      'Ningbo branch',
    ]) {
      expect(conflict.stderr).toContain(part);
    }
    const nbNet = await json(`gateway network ${ids.nb} --cidr 172.17.0.0/16 --ccn ${ids.ccn}`);
    expect(nbNet.privateCidrs).toEqual(['172.17.0.0/16']);

    const routes = await sagctl(`cen routes ${ids.cen}`);
    expect(routes.stdout).toMatch(/^DESTINATION\s+SOURCE\s+LEARNER\s+STATE\s+REASON$/m);
    const route = (cidr: string, source: string, learner: string) =>
      new RegExp(`^${cidr.replace(/\./g, '\\.')}\\s+${source}\\s+${learner}\\s+active\\s+-$`, 'm');
    expect(routes.stdout).toMatch(route('10.1.0.0/16', `vpc ${ids.shanghai}`, `gateway ${ids.hz}`));
    expect(routes.stdout).toMatch(route('172.17.0.0/16', `gateway ${ids.nb}`, `gateway ${ids.hz}`));
    expect(routes.stdout).toMatch(route('172.16.0.0/16', `gateway ${ids.hz}`, `vpc ${ids.beijing}`));
    expect(routes.stdout).not.toContain('inactive');
  });

  it('the servers: a security group and an instance in each VPC', async () => {
    for (const [vpc, ip, key] of [
      [ids.shanghai, '10.1.0.10', 'shanghai'],
      [ids.beijing, '10.2.0.10', 'beijing'],
    ]) {
      ids[`${key}Group`] = (await json(`security-group create --name Servers --vpc ${vpc}`)).id;
      const server = await sagctl(
        `instance create --name Server --vpc ${vpc} --ip ${ip} --security-group ${ids[`${key}Group`]}`,
      );
      expect(server.code).toBe(0);
      expect(server.stdout).toMatch(new RegExp(`^private ip\\s+${ip}$`, 'm'));
      ids[`${key}Server`] = /^id\s+(i-\S+)$/m.exec(server.stdout)![1];
    }
  });

  it('step 6 before step 5: unreachable, first as the device is offline, then naming the security group', async () => {
    const test = `access-test --from-gateway ${ids.hz} --from-ip 172.16.0.10 --to-instance ${ids.shanghaiServer} --protocol tcp --port 22`;
    const offline = await sagctl(test);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^UNREACHABLE: device SAGHZ0001 .* is offline$/m);

    devicesApplyTheirConfig(devices());
    const status = await sagctl(`gateway status ${ids.hz}`);
    expect(status.stdout).toMatch(/^presence\s+online \(last seen /m);
    expect(status.stdout).toMatch(/^sync\s+in-sync$/m);
    const desired = broker.controlPlane.configRecord(ids.hz)!.revision;
    expect(status.stdout).toMatch(new RegExp(`^desired revision\\s+${desired}$`, 'm'));
    expect(status.stdout).toMatch(new RegExp(`^applied revision\\s+${desired}$`, 'm'));
    expect(status.stdout).toMatch(/^ACCESS POINT\s+ROLE\s+STATE\s+RTT MS\s+LOSS %\s+JITTER MS$/m);
    expect(status.stdout).toMatch(/^ap-embedded\s+active\s+up\s+1\.23\s+0\s+0\.5$/m);
    expect(status.stdout).toMatch(/^wan0\s+wan\s+up\s+dhcp\s+198\.51\.100\.7\/24\s+-$/m);

    const blocked = await sagctl(test);
    expect(blocked.stdout).toMatch(new RegExp(`^UNREACHABLE: security group ${ids.shanghaiGroup} `));
    expect(blocked.stdout).toMatch(/^KIND\s+RESOURCE\s+VERDICT\s+REASON$/m);
    expect(blocked.stdout).toMatch(/^device\s+\S+\s+pass\s/m);
    expect(blocked.stdout).toMatch(
      new RegExp(`^security-group-ingress\\s+${ids.shanghaiGroup}\\s+block\\s`, 'm'),
    );
  });

  it('step 5, then 6: once each group admits the branch blocks, both branches reach both instances', async () => {
    for (const group of [ids.shanghaiGroup, ids.beijingGroup]) {
      for (const cidr of ['172.16.0.0/16', '172.17.0.0/16']) {
        const rule = await sagctl(
          `security-group add-rule ${group} --direction ingress --policy accept --priority 1 --protocol tcp --ports 22/22 --cidr ${cidr}`,
        );
        expect(rule.code).toBe(0);
        expect(rule.stdout).toMatch(
          new RegExp(`^sgr-\\S+\\s+ingress\\s+accept\\s+1\\s+tcp\\s+22/22\\s+${cidr}`, 'm'),
        );
      }
    }
    devicesApplyTheirConfig(devices());
    for (const [gateway, client] of [
      [ids.hz, '172.16.0.10'],
      [ids.nb, '172.17.0.10'],
    ]) {
      for (const server of [ids.shanghaiServer, ids.beijingServer]) {
        const answer = await sagctl(
          `access-test --from-gateway ${gateway} --from-ip ${client} --to-instance ${server} --protocol tcp --port 22`,
        );
        expect(answer.stdout).toMatch(/^REACHABLE: /);
        expect(answer.stdout).not.toMatch(/\sblock\s/);
      }
    }
  });

  it('a live probe needs the device itself connected: DEVICE_OFFLINE with the API message', async () => {
    const probe = await sagctl(`gateway probe ${ids.hz} --destination 10.1.0.10 --protocol tcp --port 22`);
    expect(probe.code).toBe(1);
    expect(probe.stderr).toMatch(/^sagctl: DEVICE_OFFLINE: /);
  });

  it('the event log shows what sagctl did, newest first, using the token the broker generated', async () => {
    const events = await json(`events --resource ${ids.hz} --category audit --limit 3`);
    expect(events.items).toHaveLength(3);
    expect(events.items[0].id).toBeGreaterThan(events.items[1].id);
    expect(events.items[0].action).toMatch(/^gateway\./);
    expect(readFileSync(join(dir, 'data', 'api-token'), 'utf8').trim()).toBe(broker.token);
  });
});
