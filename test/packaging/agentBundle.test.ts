// The packaged agent (`npm run build:agent`) started from its bundle alone, outside the repository,
// with the example config, against a real broker.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudApi, gatewayConfig, gatewayStatus, orderGatewayFor } from '../support/cloud.js';
import { type BrokerProcess, ROOT, removeTempDirs, startBroker, tempDir } from '../support/processes.js';
import { waitFor } from '../support/waitFor.js';

const OUT = join(ROOT, 'dist/agent');
const PACKAGING = join(ROOT, 'packaging');
const AGENT_VERSION = JSON.parse(readFileSync(join(ROOT, 'packages/agent/package.json'), 'utf8')).version;

/** A directory outside the repository holding only the bundle and the example config, like a box. */
let box: string;
let broker: BrokerProcess | undefined;
let running: ChildProcess | undefined;

// Only what a box has: no NODE_PATH, NODE_OPTIONS or SAG_* leaking in from the test run.
const boxEnv = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/bin', ...extra });

function sagAgent(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(box, 'sag-agent.mjs'), ...args], {
    cwd: box,
    env: boxEnv(env),
    encoding: 'utf8',
    timeout: 15_000,
  });
}

beforeAll(() => {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build-agent.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`build-agent failed:\n${built.stdout}\n${built.stderr}`);
  box = tempDir('agent-bundle');
  copyFileSync(join(OUT, 'sag-agent.mjs'), join(box, 'sag-agent.mjs'));
  copyFileSync(join(OUT, 'agent.example.json'), join(box, 'agent.json'));
}, 240_000);

afterAll(async () => {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  await broker?.stop();
  removeTempDirs();
});

describe('the agent bundle', () => {
  it('is one file outside the repository that imports nothing but Node.js built-ins', () => {
    expect(relative(ROOT, box).startsWith('..')).toBe(true);
    const code = readFileSync(join(box, 'sag-agent.mjs'), 'utf8');
    expect(code.split('\n', 2)[0]).toBe('#!/usr/bin/env node');
    expect(code.split('\n', 2)[1].startsWith('#!')).toBe(false);
    const specifiers = new Set<string>();
    for (const match of code.matchAll(
      // A specifier has no whitespace, so a string that merely contains "from" is not one.
      /(?:\bfrom\s*|\bimport\s*\(\s*|\b(?:__)?require\s*\(\s*)(['"])([^'"\s]+)\1/g,
    )) {
      specifiers.add(match[2]);
    }
    const outside = [...specifiers].filter((name) => !builtinModules.includes(name.replace(/^node:/, '')));
    expect(outside).toEqual([]);
    expect(statSync(join(OUT, 'sag-agent.mjs')).mode & 0o111).not.toBe(0);
    const licences = readFileSync(join(OUT, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    for (const name of ['mqtt', 'protobufjs', 'ipaddr.js'])
      expect(licences).toMatch(new RegExp(`^${name} \\d`, 'm'));
  });

  it('answers --help and --version, with the version of the agent package', () => {
    const help = sagAgent(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('sag-agent init   --serial SN --state-dir DIR');
    const version = sagAgent(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(AGENT_VERSION);
  });

  it('flashes an identity with init and prints the serial and public key as JSON', () => {
    const stateDir = join(box, 'state-init');
    const init = sagAgent(['init', '--serial', 'SAGPKG0001', '--state-dir', stateDir]);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const identity = JSON.parse(init.stdout);
    expect(Object.keys(identity).sort()).toEqual(['publicKey', 'serialNumber']);
    expect(identity.serialNumber).toBe('SAGPKG0001');
    expect(Buffer.from(identity.publicKey, 'base64')).toHaveLength(32);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(stateDir, 'device-key.pem')).mode & 0o777).toBe(0o600);
    const again = sagAgent(['init', '--serial', 'SAGPKG0001', '--state-dir', stateDir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already holds a device identity');
  });

  it('runs with the example config, gets in sync once bound and activated, and stops with 0 on SIGTERM', async () => {
    const stateDir = join(box, 'state-run');
    const init = sagAgent(['init', '--serial', 'SAGPKG0002', '--state-dir', stateDir]);
    expect(init.status).toBe(0);
    broker = await startBroker();
    const cloud = cloudApi(broker);
    const gatewayId = await orderGatewayFor(cloud, 'Hangzhou branch', JSON.parse(init.stdout));

    // The example file as shipped; the environment points it at this state directory and broker.
    const agent = spawn(process.execPath, [join(box, 'sag-agent.mjs'), 'run', '--config', 'agent.json'], {
      cwd: box,
      env: boxEnv({ SAG_STATE_DIR: stateDir, SAG_BROKER: broker.mqttUrl }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = agent;
    let output = '';
    agent.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    agent.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));

    await waitFor('the packaged agent online', async () => {
      return (await gatewayStatus(cloud, gatewayId)).presence === 'online';
    });
    await cloud.post(`/v1/gateways/${gatewayId}/activate`);
    const inSync = await waitFor('the gateway in sync', async () => {
      const status = await gatewayStatus(cloud, gatewayId);
      return status.sync === 'in-sync' ? status : null;
    });
    const desired = await gatewayConfig(cloud, gatewayId);
    expect(inSync.appliedRevision).toBe(desired.revision);

    const status = sagAgent(['status', '--state-dir', stateDir, '--json']);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      serialNumber: 'SAGPKG0002',
      agentState: 'running',
      revision: desired.revision,
      hash: desired.hash,
    });
    expect(output).toContain('"msg":"agent started"');

    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('"reason":"SIGTERM"');
  }, 60_000);
});

describe('the single executable', () => {
  it('runs without Node.js installed beside it: help and init from a directory of its own', () => {
    const dir = tempDir('agent-sea');
    copyFileSync(join(OUT, 'sag-agent'), join(dir, 'sag-agent'));
    chmodSync(join(dir, 'sag-agent'), 0o755);
    // PATH without node: the binary carries its own runtime.
    const env = { PATH: '/nonexistent' };
    const help = spawnSync(join(dir, 'sag-agent'), ['--help'], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('sag-agent init');
    const init = spawnSync(
      join(dir, 'sag-agent'),
      ['init', '--serial', 'SAGSEA0001', '--state-dir', join(dir, 'state')],
      {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    expect(init.status).toBe(0);
    expect(JSON.parse(init.stdout).serialNumber).toBe('SAGSEA0001');
  });
});

describe('the systemd unit', () => {
  const unit = readFileSync(join(PACKAGING, 'sag-agent.service'), 'utf8');
  const settings = unit
    .split('\n')
    .filter((line) => /^\w+=/.test(line))
    .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]);
  const values = (key: string) => settings.filter(([name]) => name === key).map(([, value]) => value);

  it('restarts the agent on failure, including its exit 75 after a reboot command', () => {
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('SuccessExitStatus')).toEqual([]);
    expect(values('RestartPreventExitStatus').join(' ')).not.toContain('75');
  });

  it('grants CAP_NET_ADMIN and no other capability, to a user of its own', () => {
    expect(values('AmbientCapabilities')).toEqual(['CAP_NET_ADMIN']);
    expect(values('CapabilityBoundingSet')).toEqual(['CAP_NET_ADMIN']);
    const granted = settings.filter(([, value]) => value.includes('CAP_')).map(([name]) => name);
    expect(granted.sort()).toEqual(['AmbientCapabilities', 'CapabilityBoundingSet']);
    expect(values('User')).toEqual(['sag-agent']);
    expect(values('NoNewPrivileges')).toEqual(['yes']);
    expect(values('ProtectSystem')).toEqual(['strict']);
  });

  it('runs the installed bundle with the installed config, whose state directory systemd makes', () => {
    expect(values('ExecStart')).toEqual([
      '/usr/bin/node /opt/opensag/sag-agent.mjs run --config /etc/opensag/agent.json',
    ]);
    expect(values('StateDirectory')).toEqual(['sag-agent']);
    expect(values('StateDirectoryMode')).toEqual(['0700']);
    const example = JSON.parse(readFileSync(join(PACKAGING, 'agent.example.json'), 'utf8'));
    expect(example.stateDir).toBe('/var/lib/sag-agent');
    expect(readFileSync(join(OUT, 'sag-agent.service'), 'utf8')).toBe(unit);
  });
});
