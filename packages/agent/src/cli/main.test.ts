import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudTopic, decodeHello, deviceTopic, encodeCommand, encodeDesiredConfig } from '@opensag/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, TestBroker } from '../testing/aedesBroker.js';
import { sampleConfig } from '../testing/sampleConfig.js';
import { type CliIo, main } from './main.js';

const SN = 'SN-HZ-0001';

/** An in-process terminal: the CLI runs as `main(argv, io)` so tests need no build and no child process. */
function terminal(env: Record<string, string> = {}) {
  let stop: (reason: string) => void = () => undefined;
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    env,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    stopRequested: new Promise((resolve) => {
      stop = resolve;
    }),
  };
  return { io, stop: (reason = 'SIGTERM') => stop(reason), out: () => out.join(''), err: () => err.join('') };
}

let dir: string;
let stateDir: string;
let broker: TestBroker | null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sag-cli-'));
  stateDir = join(dir, 'state');
  broker = null;
});

afterEach(async () => {
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function init(): Promise<{ serialNumber: string; publicKey: string }> {
  const t = terminal();
  expect(await main(['init', '--serial', SN, '--state-dir', stateDir], t.io)).toBe(0);
  return JSON.parse(t.out());
}

describe('sag-agent', () => {
  it('prints help for the program and for every command', async () => {
    const t = terminal();
    expect(await main(['--help'], t.io)).toBe(0);
    expect(t.out()).toMatch(/sag-agent init[\s\S]*sag-agent run[\s\S]*sag-agent status/);
    for (const command of ['init', 'run', 'status']) {
      const c = terminal();
      expect(await main([command, '--help'], c.io)).toBe(0);
      expect(c.out()).toContain(`Usage: sag-agent ${command}`);
    }
    const run = terminal();
    await main(['run', '--help'], run.io);
    expect(run.out()).toMatch(/--dataplane NAME .*accepted: emulated\|linux \(default emulated\)/);
    expect(run.out()).toMatch(/--role NAME .*accepted: branch\|edge \(default branch\)/);
    expect(run.out()).toMatch(/--listen HOST:PORT .*SAG_LISTEN/);
    expect(run.out()).toContain('Logs are JSON lines on standard error');
  });

  it('init prints the serial number and public key as JSON and refuses to overwrite without --force', async () => {
    const identity = await init();
    expect(identity.serialNumber).toBe(SN);
    expect(Buffer.from(identity.publicKey, 'base64')).toHaveLength(32);
    const again = terminal();
    expect(await main(['init', '--serial', SN, '--state-dir', stateDir], again.io)).toBe(1);
    expect(again.err()).toMatch(/already holds a device identity; pass --force/);
    const forced = terminal();
    expect(await main(['init', '--serial', SN, '--state-dir', stateDir, '--force'], forced.io)).toBe(0);
    expect(JSON.parse(forced.out()).publicKey).not.toBe(identity.publicKey);
  });

  it('init takes the state directory from SAG_STATE_DIR and refuses a bad serial with exit 2', async () => {
    const t = terminal({ SAG_STATE_DIR: stateDir });
    expect(await main(['init', '--serial', 'x'], t.io)).toBe(2);
    expect(t.err().trim().split('\n')).toHaveLength(1);
    const ok = terminal({ SAG_STATE_DIR: stateDir });
    expect(await main(['init', '--serial', SN], ok.io)).toBe(0);
  });

  it.each([
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--dataplane', 'kernel'],
      {},
      /--dataplane "kernel" is not accepted; accepted: emulated, linux/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--role', 'edge'],
      {},
      /role edge \(an access point\) needs dataplane linux: .* \(dataplane is emulated\)/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883'],
      { SAG_ROLE: 'edge', SAG_DATAPLANE: 'emulated' },
      /role edge \(an access point\) needs dataplane linux/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--listen', '127.0.0.1:7000'],
      {},
      /listen 127\.0\.0\.1:7000 is for role edge .*a branch gateway listens on nothing/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--role', 'edge', '--dataplane', 'linux'],
      { SAG_LISTEN: '0.0.0.0:65535' },
      /SAG_LISTEN "0\.0\.0\.0:65535" is not HOST:PORT with a port of 1-65534/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--role', 'edge', '--dataplane', 'linux'],
      { SAG_LISTEN: '[::]:51820' },
      /SAG_LISTEN "\[::\]:51820" is not HOST:PORT/,
    ],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883'],
      { SAG_KEEPALIVE: 'soon' },
      /SAG_KEEPALIVE "soon" is not a whole number of seconds/,
    ],
    [['run', '--state-dir', 'x', '--broker', 'http://h'], {}, /--broker "http:\/\/h" is not an mqtt:\/\//],
    [['run', '--state-dir', 'x'], {}, /--broker is required \(or set SAG_BROKER/],
    [
      ['run', '--state-dir', 'x', '--broker', 'mqtt://h:1883', '--log-level', 'loud'],
      {},
      /--log-level "loud" is not accepted/,
    ],
    [['run', '--bogus'], {}, /run: unknown option --bogus/],
    [['launch'], {}, /unknown command "launch"/],
  ])('stops %j with one line naming the bad setting (exit 2)', async (argv, env, message) => {
    const t = terminal(env as Record<string, string>);
    expect(await main(argv as string[], t.io)).toBe(2);
    expect(t.err()).toMatch(message);
    expect(t.err().trim().split('\n')).toHaveLength(1);
  });

  it('reads settings from a JSON config file, refusing keys it does not know', async () => {
    const file = join(dir, 'agent.json');
    await writeFile(file, JSON.stringify({ stateDir, broker: 'mqtt://127.0.0.1:1', keepalive: 0 }));
    const t = terminal();
    expect(await main(['run', '--config', file], t.io)).toBe(2);
    expect(t.err()).toContain(`keepalive in ${file} 0 is not a whole number of seconds from 1 to 300`);
    await writeFile(file, JSON.stringify({ stateDir, brokr: 'mqtt://127.0.0.1:1' }));
    const typo = terminal({ SAG_CONFIG: file });
    expect(await main(['run'], typo.io)).toBe(2);
    expect(typo.err()).toContain('unknown setting "brokr"');
  });

  it('status explains when the agent has never run in the state directory', async () => {
    const t = terminal();
    expect(await main(['status', '--state-dir', stateDir], t.io)).toBe(1);
    expect(t.err()).toMatch(/no status.json in .*the agent has not run/);
  });

  it('runs the agent until SIGTERM, and status shows what it applied', async () => {
    const { publicKey } = await init();
    broker = await TestBroker.start({ devices: new Map([[SN, publicKey]]) });
    const t = terminal({ SAG_BROKER: broker.url, SAG_LOG_LEVEL: 'info' });
    const running = main(['run', '--state-dir', stateDir], t.io);
    await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1, 5000, 'hello');
    expect(decodeHello(broker.on(deviceTopic(SN, 'hello'))[0].payload)).toMatchObject({
      dataplane: 'emulated',
      role: 'branch',
      tunnelPublicKey: '',
    });
    await broker.publish(
      cloudTopic(SN, 'config'),
      encodeDesiredConfig(sampleConfig({ revision: 4, hash: 'h4' })),
    );
    await eventually(() => broker?.on(deviceTopic(SN, 'ack')).length === 1, 5000, 'ack');
    t.stop('SIGTERM');
    expect(await running).toBe(0);
    const logs = t
      .err()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['agent started', 'config applied', 'stopping']),
    );

    const table = terminal();
    expect(await main(['status', '--state-dir', stateDir], table.io)).toBe(0);
    expect(table.out()).toMatch(/SN-HZ-0001\s+running\s+4\s+h4\s+closed/);
    expect(table.out()).toMatch(/ROUTES[\s\S]*10\.1\.0\.0\/16\s+tunnel\s+-\s+vpc-sh/);
    expect(table.out()).toMatch(/ACL[\s\S]*1\s+aclr-1 \(deny ssh\)\s+out\s+drop\s+tcp/);
    expect(table.out()).toMatch(/TUNNELS[\s\S]*ap-sh-1\s+127\.0\.0\.1:7000\s+active/);
    expect(table.out()).toMatch(/PORTS[\s\S]*lan1\s+lan\s+up/);
    const json = terminal({ SAG_STATE_DIR: stateDir });
    expect(await main(['status', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({ revision: 4, hash: 'h4', serialNumber: SN });
  });

  it('exits 75 when the broker asks for a reboot, so a supervisor restarts it', async () => {
    const { publicKey } = await init();
    broker = await TestBroker.start({ devices: new Map([[SN, publicKey]]) });
    const t = terminal();
    const running = main(
      ['run', '--state-dir', stateDir, '--broker', broker.url, '--log-level', 'silent'],
      t.io,
    );
    await eventually(() => broker?.on(deviceTopic(SN, 'hello')).length === 1, 5000, 'hello');
    await broker.publish(cloudTopic(SN, 'cmd'), encodeCommand({ commandId: 'rb-1', reboot: {} }));
    expect(await running).toBe(75);
    expect(t.out()).toBe('');
  });

  it('run fails with exit 1 and the fix when the state directory holds no identity', async () => {
    const t = terminal();
    expect(await main(['run', '--state-dir', stateDir, '--broker', 'mqtt://127.0.0.1:1'], t.io)).toBe(1);
    expect(t.err()).toMatch(/no device identity in .*run `sag-agent init --serial SN/);
  });
});
