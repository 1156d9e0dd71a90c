import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceIdentity, startTestApi, type TestApi, TOKEN } from '../testing/testApi.js';
import { main } from './cli.js';

/**
 * What sagctl prints: the API's JSON unchanged with --json, tables otherwise, every page with
 * --all; and where it finds the URL and token. The API is the real one (buildApi over a real
 * control plane and the in-memory store, via TestApi) listening on a free loopback port.
 */

let api: TestApi;
let url: string;
let home: string;

beforeAll(async () => {
  api = await startTestApi();
  url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  home = mkdtempSync(join(tmpdir(), 'sagctl-output-'));
});

afterAll(async () => {
  await api.close();
  rmSync(home, { recursive: true, force: true });
});

/** A command line as typed in a shell: words split on spaces, "double quotes" kept together. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

async function sagctl(line: string, env: Record<string, string> = { SAG_URL: url, SAG_API_TOKEN: TOKEN }) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (text: string) => {
      stdout += text;
    },
    stderr: (text: string) => {
      stderr += text;
    },
    env,
    homeDir: home,
  };
  const code = await main(words(line), io);
  return { code, stdout, stderr };
}

async function json(line: string) {
  const result = await sagctl(`--json ${line}`);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe('--json', () => {
  it('prints exactly what the API answers, for single resources and lists', async () => {
    const created = await json('vpc create --name "Json VPC" --region cn-qingdao --cidr 10.9.0.0/16');
    expect(created).toEqual((await api.get(`/v1/vpcs/${created.id}`)).body);
    expect(await json(`vpc get ${created.id}`)).toEqual((await api.get(`/v1/vpcs/${created.id}`)).body);
    expect(await json('vpc list')).toEqual((await api.get('/v1/vpcs')).body);
    expect(await json('areas')).toEqual((await api.get('/v1/areas')).body);
  });

  it('prints nothing for answers without a body, and a line for people otherwise', async () => {
    const acl = await json('acl create --name "Scratch ACL"');
    expect((await sagctl(`--json acl delete ${acl.id}`)).stdout).toBe('');
    const other = await json('acl create --name "Other ACL"');
    expect((await sagctl(`acl delete ${other.id}`)).stdout).toBe(`deleted ACL ${other.id}\n`);
    expect((await api.get(`/v1/acls/${other.id}`)).status).toBe(404);
  });
});

describe('tables', () => {
  it('align the key columns of a list under upper-case headers', async () => {
    await json('cen create --name "Table CEN"');
    const list = await sagctl('cen list');
    const [header, row] = list.stdout.split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+ATTACHMENTS\s+BANDWIDTH PACKAGES$/);
    expect(row.indexOf('Table CEN')).toBe(header.indexOf('NAME'));
  });

  it('show one resource as key/value lines and its rules as a table', async () => {
    const vpc = await json('vpc create --name "Rule VPC" --region cn-chengdu --cidr 10.8.0.0/16');
    const group = await json(`security-group create --name Web --vpc ${vpc.id}`);
    // A value that starts with a dash is still a value: `--ports -1/-1` means any port.
    const rule = await sagctl(
      `security-group add-rule ${group.id} --direction ingress --policy accept --priority 5 --protocol all --ports -1/-1 --cidr 172.16.0.0/16`,
    );
    expect(rule.code, rule.stderr).toBe(0);
    const shown = await sagctl(`security-group get ${group.id}`);
    expect(shown.stdout).toMatch(new RegExp(`^vpc\\s+${vpc.id}$`, 'm'));
    expect(shown.stdout).toMatch(
      /^RULE\s+DIRECTION\s+POLICY\s+PRIORITY\s+PROTOCOL\s+PORTS\s+CIDR\s+DESCRIPTION$/m,
    );
    expect(shown.stdout).toMatch(/^sgr-\S+\s+ingress\s+accept\s+5\s+all\s+-1\/-1\s+172\.16\.0\.0\/16\s+-$/m);
  });
});

describe('lists', () => {
  it('show one page and say how to get the next; --all follows nextCursor', async () => {
    for (const n of [1, 2, 3]) await json(`ccn create --name "Paged CCN ${n}" --area china-mainland`);
    const first = await sagctl('ccn list --limit 2');
    expect(first.stdout.trim().split('\n')).toHaveLength(3);
    const cursor = /--cursor (\S+)/.exec(first.stderr)![1];
    const second = await sagctl(`ccn list --limit 2 --cursor ${cursor}`);
    expect(second.stdout).toContain('Paged CCN 3');
    expect(second.stderr).toBe('');

    const all = await sagctl('ccn list --all --limit 1');
    for (const n of [1, 2, 3]) expect(all.stdout).toContain(`Paged CCN ${n}`);
    expect(all.stderr).toBe('');
    const allJson = await json('ccn list --all --limit 1');
    expect(allJson.nextCursor).toBeNull();
    expect(allJson.items.map((c: { name: string }) => c.name)).toEqual([
      'Paged CCN 1',
      'Paged CCN 2',
      'Paged CCN 3',
    ]);
  });
});

describe('gateway settings', () => {
  it('binds a device from an agent state directory, sets ports from a file, applies and removes an ACL', async () => {
    const gateway = await json(
      'gateway create --name "Settings branch" --area china-mainland --spec sag-1000 --bandwidth 10 --months 12',
    );
    const stateDir = join(home, 'agent-state');
    mkdirSync(stateDir, { recursive: true });
    const identity = deviceIdentity();
    writeFileSync(join(stateDir, 'identity.json'), JSON.stringify(identity));
    expect((await json(`gateway bind-device ${gateway.id} --identity ${stateDir}`)).serialNumber).toBe(
      identity.serialNumber,
    );

    const portsFile = join(home, 'ports.json');
    const ports = {
      wan: [{ name: 'wan0', mode: 'static', address: '203.0.113.2/24', gateway: '203.0.113.1' }],
      lan: [],
    };
    writeFileSync(portsFile, JSON.stringify(ports));
    expect((await json(`gateway ports ${gateway.id} --file ${portsFile}`)).ports).toEqual(ports);

    const acl = await json('acl create --name "Branch firewall"');
    const rule = await json(
      `acl add-rule ${acl.id} --direction out --policy drop --priority 10 --protocol tcp --dest 10.1.0.0/16 --dest-ports 22/22`,
    );
    expect(rule).toMatchObject({ sourceCidr: '0.0.0.0/0', sourcePortRange: '-1/-1', destPortRange: '22/22' });
    expect((await json(`acl update-rule ${acl.id} ${rule.id} --policy accept`)).policy).toBe('accept');
    expect((await json(`gateway acl ${gateway.id} --acl ${acl.id}`)).aclId).toBe(acl.id);
    const config = await sagctl(`gateway config ${gateway.id}`);
    expect(config.stdout).toMatch(new RegExp(`^${rule.id}\\s+out\\s+accept\\s+10\\s+tcp`, 'm'));
    expect((await sagctl(`gateway acl ${gateway.id} --remove`)).stdout).toBe(
      `removed the ACL of gateway ${gateway.id}\n`,
    );
    expect((await json(`gateway get ${gateway.id}`)).aclId).toBeNull();
    expect((await sagctl(`acl remove-rule ${acl.id} ${rule.id}`)).code).toBe(0);
    expect((await json(`acl get ${acl.id}`)).rules).toEqual([]);
  });

  it('sets the CEN bandwidth packages from AREA,AREA:MBPS', async () => {
    const cen = await json('cen create --name "Packaged CEN"');
    const updated = await json(`cen bandwidth-packages ${cen.id} --package china-mainland,europe:10`);
    expect(updated.bandwidthPackages).toEqual([{ areas: ['china-mainland', 'europe'], bandwidthMbps: 10 }]);
    expect((await json(`cen bandwidth-packages ${cen.id} --none`)).bandwidthPackages).toEqual([]);
  });
});

describe('where the URL and token come from', () => {
  const unreachable = 'http://127.0.0.1:9';

  it('takes flags over the environment, and the environment over the config file', async () => {
    const config = join(home, 'sagctl.json');
    writeFileSync(config, JSON.stringify({ url: unreachable, token: 'file-token-that-is-wrong' }));
    const env = { SAG_URL: url, SAG_API_TOKEN: 'env-token-that-is-wrong', SAG_CONFIG: config };
    expect((await sagctl('areas', env)).stderr).toMatch(/^sagctl: UNAUTHORIZED: /);
    expect((await sagctl(`areas --token ${TOKEN}`, env)).code).toBe(0);
    expect((await sagctl(`areas --url ${unreachable} --token ${TOKEN}`, env)).stderr).toContain(
      `cannot reach the broker at ${unreachable}`,
    );
    expect((await sagctl('areas', { SAG_CONFIG: config })).stderr).toContain(unreachable);
  });

  it('falls back to the default config file, and to the token file it names', async () => {
    const dir = join(home, '.config', 'opensag');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'api-token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'sagctl.json'), JSON.stringify({ url, tokenFile: 'api-token' }));
    const result = await sagctl('areas', {});
    rmSync(dir, { recursive: true });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^AREA\s+ENABLED\s+REGIONS$/m);
    expect(result.stdout).toMatch(/^china-mainland\s+yes\s+cn-hangzhou, cn-shanghai/m);
    expect(result.stdout).toMatch(/^europe\s+no\s+eu-central-1$/m);
  });
});
