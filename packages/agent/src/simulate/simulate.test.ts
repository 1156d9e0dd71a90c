import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RunningBroker, startBroker } from '@opensag/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../cli/main.js';
import { main } from '../cli/main.js';
import { eventually } from '../testing/aedesBroker.js';
import { IDENTITIES_FILE } from './fleetIdentities.js';
import { GATEWAYS_FILE } from './provision.js';

/**
 * The simulator against a whole broker (SQLite, API, MQTT, embedded access point) in this
 * process: `sag-agent simulate provision` then `sag-agent simulate`, driven as from a shell.
 */

const COUNT = 20;
const QUOTA = 25;
let dir: string;
let stateDir: string;
let broker: RunningBroker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sag-sim-'));
  stateDir = join(dir, 'fleet');
  const configFile = join(dir, 'broker.json');
  await writeFile(configFile, JSON.stringify({ quotas: { gateways: QUOTA } }));
  const loopback = '127.0.0.1:0';
  const config = loadConfig(
    {
      'data-dir': join(dir, 'data'),
      http: loopback,
      mqtt: loopback,
      'access-point': loopback,
      'log-level': 'silent',
      config: configFile,
    },
    {},
  );
  broker = await startBroker(config);
});

afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

function terminal() {
  let stop: (reason: string) => void = () => undefined;
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env: {},
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    stopRequested: new Promise((resolve) => {
      stop = resolve;
    }),
  };
  return { io, stop: () => stop('SIGTERM'), out: () => out.join(''), err: () => err.join('') };
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${broker.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${broker.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status, `${method} ${path}`).toBeLessThan(300);
  return (await response.json()) as T;
}

interface Status {
  presence: string;
  sync: string;
  appliedRevision: number | null;
  desiredRevision: number | null;
  tunnels: { state: string }[];
}

const apiFlags = () => ['--api', broker.httpUrl, `--token=${broker.token}`];
const readGateways = async (): Promise<Record<string, string>> =>
  JSON.parse(await readFile(join(stateDir, GATEWAYS_FILE), 'utf8'));

describe('sag-agent simulate', () => {
  it('provisions a gateway per identity: created, bound and active, listed in gateways.json', async () => {
    const t = terminal();
    const code = await main(
      [
        'simulate',
        'provision',
        '--count',
        String(COUNT),
        '--state-dir',
        stateDir,
        ...apiFlags(),
        '--concurrency',
        '4',
      ],
      t.io,
    );
    expect(code, t.err()).toBe(0);
    expect(JSON.parse(t.out())).toMatchObject({ count: COUNT, provisioned: COUNT, skipped: 0 });
    const gateways = await readGateways();
    expect(Object.keys(gateways)).toHaveLength(COUNT);
    expect(gateways.SIM000001).toMatch(/^sag-/);
    const gateway = await api<{ lifecycle: string; serialNumber: string }>(
      'GET',
      `/v1/gateways/${gateways.SIM000020}`,
    );
    expect(gateway).toMatchObject({ lifecycle: 'active', serialNumber: 'SIM000020' });
  });

  it('brings every device in sync, carries a config change to its device, and stops on SIGTERM', async () => {
    const t = terminal();
    const running = main(
      [
        'simulate',
        '--count',
        String(COUNT),
        '--broker',
        broker.mqttUrl,
        '--state-dir',
        stateDir,
        '--concurrency',
        '5',
        '--report-interval-ms',
        '500',
      ],
      t.io,
    );
    const line = await eventually(() => t.out().split('\n')[0] || undefined, 15_000, 'the summary');
    const summary = JSON.parse(line);
    expect(summary).toMatchObject({ count: COUNT, connected: COUNT, inSync: COUNT, failed: 0 });
    expect(summary.connectMs).toBeGreaterThan(0);
    expect(summary.elapsedMs).toBeGreaterThanOrEqual(summary.connectMs);
    expect(t.err()).toContain(`simulate: connected ${COUNT}/${COUNT}, in-sync ${COUNT}/${COUNT}, failed 0`);

    const gateways = await readGateways();
    const statuses = await Promise.all(
      Object.values(gateways).map((id) => api<Status>('GET', `/v1/gateways/${id}/status`)),
    );
    for (const status of statuses) expect(status).toMatchObject({ presence: 'online', sync: 'in-sync' });

    // Reports and tunnel events flow: the always-up probe network brings the tunnels up.
    const one = gateways.SIM000007;
    await pollStatus(
      one,
      (s) => s.tunnels.length > 0 && s.tunnels.every((x) => x.state === 'up'),
      'tunnels up',
    );

    const before = (await api<Status>('GET', `/v1/gateways/${one}/status`)).appliedRevision ?? 0;
    await api('PUT', `/v1/gateways/${one}/ports`, {
      wan: [{ name: 'wan0', mode: 'dhcp' }],
      lan: [{ name: 'lan0', address: '172.16.7.1/24' }],
    });
    const after = await pollStatus(
      one,
      (s) => (s.appliedRevision ?? 0) > before && s.sync === 'in-sync',
      'the new revision applied',
    );
    expect(after.appliedRevision).toBe(after.desiredRevision);

    t.stop();
    expect(await running).toBe(0);
    await pollStatus(one, (s) => s.presence === 'offline', 'offline after stop');
  });

  it('reuses its identities on a second run, skips provisioned gateways, and connects from several source addresses', async () => {
    const identities = await readFile(join(stateDir, IDENTITIES_FILE), 'utf8');
    const again = terminal();
    const code = await main(
      [
        'simulate',
        '--count',
        String(COUNT),
        '--broker',
        broker.mqttUrl,
        '--state-dir',
        stateDir,
        ...apiFlags(),
        '--source-addresses',
        '127.0.0.2,127.0.0.3',
        '--once',
      ],
      again.io,
    );
    expect(code, again.err()).toBe(0);
    expect(again.err()).toContain(`${COUNT} identities from ${stateDir}/identities.json (0 new)`);
    expect(again.err()).toContain(`provision: 0 provisioned, ${COUNT} already were`);
    expect(JSON.parse(again.out())).toMatchObject({ count: COUNT, inSync: COUNT, failed: 0 });
    expect(await readFile(join(stateDir, IDENTITIES_FILE), 'utf8')).toBe(identities);
  });

  it('stops provisioning at the gateway quota with a line naming it', async () => {
    const t = terminal();
    const code = await main(
      ['simulate', 'provision', '--count', String(QUOTA + 3), '--state-dir', stateDir, ...apiFlags()],
      t.io,
    );
    expect(code).toBe(1);
    expect(t.err()).toMatch(
      new RegExp(
        `its quota "gateways" is ${QUOTA} \\(${QUOTA} provisioned in .*\\); raise it .*"quotas":\\{"gateways":20000\\}`,
      ),
    );
    expect(Object.keys(await readGateways())).toHaveLength(QUOTA);
  });

  it('refuses bad settings with one line and prints help', async () => {
    const t = terminal();
    expect(
      await main(['simulate', '--count', '0', '--broker', broker.mqttUrl, '--state-dir', stateDir], t.io),
    ).toBe(2);
    expect(t.err()).toBe('sag-agent: --count "0" is not a whole number from 1 to 1000000\n');
    const noApi = terminal();
    expect(await main(['simulate', 'provision', '--count', '1', '--state-dir', stateDir], noApi.io)).toBe(2);
    expect(noApi.err()).toContain('--api URL is required');
    for (const argv of [
      ['simulate', '--help'],
      ['simulate', 'provision', '--help'],
    ]) {
      const h = terminal();
      expect(await main(argv, h.io)).toBe(0);
      expect(h.out()).toContain(`Usage: sag-agent ${argv.slice(0, -1).join(' ')} --count N`);
    }
  });
});

async function pollStatus(id: string, ok: (s: Status) => boolean, what: string): Promise<Status> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await api<Status>('GET', `/v1/gateways/${id}/status`);
    if (ok(status)) return status;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
