import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi, TOKEN } from '../testing/testApi.js';
import { main } from './cli.js';
import { isGroup } from './command.js';
import { COMMANDS } from './commands/index.js';

/**
 * Help, usage errors, API errors and connection failures. The API is the real one over a real
 * control plane and the in-memory store (buildApi through TestApi), listening on a free loopback
 * port: everything sagctl sees is real HTTP, without the MQTT side it does not use here.
 */

let api: TestApi;
let url: string;
let home: string;

beforeAll(async () => {
  api = await startTestApi();
  url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  home = mkdtempSync(join(tmpdir(), 'sagctl-cli-'));
});

afterAll(async () => {
  await api.close();
  rmSync(home, { recursive: true, force: true });
});

async function sagctl(argv: string[], env: Record<string, string> = { SAG_URL: url, SAG_API_TOKEN: TOKEN }) {
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
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('help', () => {
  it('lists every command, the global flags and the exit statuses', async () => {
    const help = await sagctl(['--help']);
    expect(help.code).toBe(0);
    for (const entry of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${entry.name}\\s`, 'm'));
    for (const flag of ['--url URL', '--token TOKEN', '--token-file PATH', '--config FILE', '--json']) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain('Exit status');
    expect(help.stderr).toBe('');
  });

  it('is there for every command and subcommand, with its flags and an example', async () => {
    for (const entry of COMMANDS) {
      const specs = isGroup(entry)
        ? entry.commands.map((c) => [entry.name, c] as const)
        : [[null, entry] as const];
      for (const [group, spec] of specs) {
        const words = group ? [group, spec.name] : [spec.name];
        const help = await sagctl([...words, '--help']);
        expect(help.code, words.join(' ')).toBe(0);
        expect(help.stdout).toContain(`Usage: sagctl ${words.join(' ')}`);
        for (const flag of Object.keys(spec.flags ?? {})) expect(help.stdout).toContain(`--${flag}`);
        expect(help.stdout).toMatch(new RegExp(`Examples?:\n(.*\n)*  sagctl ${words.join(' ')}`));
        expect(await sagctl(['help', ...words])).toEqual(help);
      }
      if (isGroup(entry)) {
        const groupHelp = await sagctl([entry.name, '-h']);
        expect(groupHelp.code).toBe(0);
        for (const c of entry.commands) expect(groupHelp.stdout).toMatch(new RegExp(`^  ${c.name}\\s`, 'm'));
      }
    }
  });

  it('wins over missing flags, so a half-typed command still shows its help', async () => {
    const help = await sagctl(['gateway', 'create', '--name', 'x', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--bandwidth MBPS');
  });
});

describe('usage errors exit 2, name the problem and point to --help', () => {
  it.each([
    [['gatewy', 'list'], 'unknown command "gatewy" (did you mean gateway?) (see sagctl --help)'],
    [
      ['gateway', 'lst'],
      'gateway: unknown subcommand "lst" (did you mean list?) (see sagctl gateway --help)',
    ],
    [['gateway'], 'gateway: give a subcommand: create, list,'],
    [[], 'give a command (see sagctl --help)'],
    [['acx', 'list'], 'unknown command "acx" (did you mean acl?)'],
    [['instances', 'list'], 'unknown command "instances" (did you mean instance?)'],
    [['frobnicate'], 'unknown command "frobnicate" (see sagctl --help)'],
    [['gateway', 'list', '--colour'], 'gateway list: unknown flag --colour (see sagctl gateway list --help)'],
    [['gateway', 'get'], 'gateway get: missing GATEWAY_ID (see sagctl gateway get --help)'],
    [['gateway', 'get', 'a', 'b'], 'gateway get: unexpected argument "b"'],
    [['vpc', 'create', '--name'], 'vpc create: flag --name needs a value'],
    [['areas', '--json=yes'], 'areas: flag --json takes no value'],
    [
      [
        'gateway',
        'create',
        '--name',
        'Hangzhou branch',
        '--area',
        'china-mainland',
        '--spec',
        'sag-100wm',
        '--months',
        '1',
      ],
      'gateway create: missing required flag --bandwidth (see sagctl gateway create --help)',
    ],
    [
      [
        'gateway',
        'create',
        '--name',
        'Hz',
        '--area',
        'x',
        '--spec',
        'y',
        '--bandwidth',
        'two',
        '--months',
        '1',
      ],
      'gateway create: --bandwidth "two" is not a whole number',
    ],
    [['cen', 'attach', 'cen-1', '--vpc', 'v', '--ccn', 'c'], 'cen attach: give --vpc or --ccn, not both'],
    [['gateway', 'acl', 'sag-1'], 'gateway acl: give --acl or --remove'],
    [
      ['gateway', 'bind-device', 'sag-1', '--serial', 'SN'],
      'gateway bind-device: give --serial and --public-key, or --identity FILE',
    ],
    [
      ['access-test', '--from-ip', '172.16.0.10', '--to-ip', '10.1.0.1', '--protocol', 'tcp'],
      'access-test: give --from-gateway ID with --from-ip IP',
    ],
    [
      ['gateway', 'ports', 'sag-1', '--wan', 'wan0:ppp'],
      'gateway ports: --wan "wan0:ppp": expected NAME:dhcp',
    ],
    [
      ['cen', 'bandwidth-packages', 'cen-1', '--package', 'europe:10'],
      'cen bandwidth-packages: --package "europe:10": expected AREA,AREA:MBPS',
    ],
  ])('sagctl %j', async (argv, message) => {
    const result = await sagctl(argv as string[]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`sagctl: ${message}`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('sends nothing to the API when the command line is wrong', async () => {
    await sagctl(['vpc', 'create', '--name', 'Shanghai VPC', '--region', 'cn-shanghai']);
    const list = await sagctl(['--json', 'vpc', 'list']);
    expect(JSON.parse(list.stdout).items).toEqual([]);
  });
});

describe('API and connection errors exit 1 with one clear message', () => {
  it("prints the API's own code and message for a refused request", async () => {
    const result = await sagctl(['gateway', 'get', 'sag-nothere']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^sagctl: NOT_FOUND: .*sag-nothere/);
  });

  it('says a wrong token is UNAUTHORIZED and where tokens come from', async () => {
    const result = await sagctl(['areas'], { SAG_URL: url, SAG_API_TOKEN: 'wrong-token-0000000' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sagctl: UNAUTHORIZED: /);
    expect(result.stderr).toContain('--token-file');
  });

  it('names the URL when nothing listens there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const result = await sagctl(['gateway', 'list', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `sagctl: cannot reach the broker at http://127.0.0.1:${port}: connection refused ` +
        '(is sag-broker running there? set --url or SAG_URL)\n',
    );
  });

  it('says when the URL answers but is not the API', async () => {
    const server = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>nope</h1>'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const result = await sagctl(['areas', '--url', `http://127.0.0.1:${port}`]);
    await new Promise((resolve) => server.close(resolve));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^sagctl: HTTP_404: Not Found: <h1>nope<\/h1> \(is .* an OpenSAG broker\?\)/,
    );
  });
});
