// `npm run lab` as a newcomer meets it: the lab script walks the six steps with a real broker and
// two real agents, stays up, and Ctrl-C stops every process it started. The script keeps its
// state in the repository's `.lab/`, so this file holds exactly one test.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPorts, loopbackPortsFree } from '../support/freePorts.js';
import {
  type HostProcess,
  hostProcess,
  hostProcesses,
  processesMentioning,
} from '../support/hostProcesses.js';
import { ROOT, waitForOutput } from '../support/processes.js';

const LAB_SCRIPT = join(ROOT, 'scripts/lab.mjs');
const LAB_DIR = join(ROOT, '.lab');

let lab: ChildProcess | undefined;
let started: HostProcess[] = [];

/** A process the lab started that is still alive (same pid, still running from the lab's state). */
const stillRunning = (child: HostProcess) => {
  const now = hostProcess(child.pid);
  return now !== null && now.state !== 'Z' && now.cmdline === child.cmdline;
};

/** The broker and agents of a lab: programs from this repository running on `.lab/` state. */
const labPrograms = () =>
  processesMentioning(LAB_DIR).filter((p) => p.cmdline.includes(join(ROOT, 'packages')));

afterAll(() => {
  // Only if the test failed half-way: end what it started, by pid.
  if (lab && lab.exitCode === null && lab.signalCode === null) lab.kill('SIGKILL');
  for (const child of started.filter(stillRunning)) process.kill(child.pid, 'SIGKILL');
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('npm run lab', () => {
  it('walks the six steps, stays up, and Ctrl-C stops every process it started', async () => {
    const {
      tcp: [httpPort, mqttPort],
      udp: [accessPointPort],
    } = await freeLoopbackPorts(2, 1);
    const startedAt = Date.now();
    lab = spawn(process.execPath, [LAB_SCRIPT], {
      cwd: ROOT,
      env: {
        ...process.env,
        SAG_LAB_HTTP: `127.0.0.1:${httpPort}`,
        SAG_LAB_MQTT: `127.0.0.1:${mqttPort}`,
        SAG_LAB_ACCESS_POINT: `127.0.0.1:${accessPointPort}`,
        SAG_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    lab.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    lab.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    await waitForOutput(lab, /OpenSAG lab is up[\s\S]*Press Ctrl-C to stop\./, 45_000).catch((err) => {
      throw new Error(`${err.message}\nlab stderr:\n${stderr}`);
    });
    console.info(`lab up in ${Date.now() - startedAt} ms`);
    const labPid = lab.pid as number;

    // What it started: one broker and two agents, all its own children, all on `.lab/` state.
    started = hostProcesses().filter((p) => p.ppid === labPid);
    const commands = started.map((p) => p.cmdline);
    expect(commands).toHaveLength(3);
    expect(commands.filter((c) => c.includes('packages/broker/dist/cli.js'))).toHaveLength(1);
    expect(commands.filter((c) => c.includes('packages/agent/dist/cli.js run'))).toHaveLength(2);
    for (const command of commands) expect(command).toContain(LAB_DIR);
    expect(
      labPrograms()
        .map((p) => p.pid)
        .sort(),
    ).toEqual(started.map((p) => p.pid).sort());

    // It serves what it printed.
    expect(stdout).toContain(`API:    http://127.0.0.1:${httpPort}/v1`);
    expect(stdout).toContain(`MQTT:   mqtt://127.0.0.1:${mqttPort}`);
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });

    // Each step printed with its number, 1 to 6, and nothing numbered otherwise.
    const stepLines = stdout.split('\n').filter((line) => line.startsWith('step '));
    const numbers = new Set(stepLines.map((line) => line.slice(5, line.indexOf(':'))));
    expect(
      [...numbers].filter((n) => !/^[1-6]$/.test(n)),
      'step lines not numbered 1 to 6',
    ).toEqual([]);
    expect([...numbers].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(stdout).toMatch(/^step 3: sag-\S+: device applied config revision \d+/m);

    // Step 6 before and after step 5: unreachable naming the security group, then reachable.
    const before = stepLines.filter((line) => line.includes('before the security-group rule'));
    const after = stepLines.filter((line) => line.includes('after the security-group rule'));
    expect(before).toHaveLength(4);
    expect(after).toHaveLength(4);
    for (const line of before)
      expect(line).toMatch(/tcp\/22: unreachable: security group sg-\S+ \(.+\) of instance i-/);
    for (const line of after) expect(line).toMatch(/tcp\/22: reachable$/);
    expect(stdout).toMatch(/^step 6: Hangzhou branch → Ningbo branch icmp: reachable$/m);
    expect(stdout).toMatch(/^step 6: live probe from device SAGHZ0001 to 10\.1\.0\.10 tcp\/22: reachable$/m);

    // Ctrl-C.
    const interruptedAt = Date.now();
    lab.kill('SIGINT');
    const result = await exited(lab);
    console.info(`lab stopped ${Date.now() - interruptedAt} ms after SIGINT`);
    expect(result, `lab stderr:\n${stderr}`).toEqual({ code: 0, signal: null });
    // The lab waits for its children before it exits, so none may outlive it, even briefly.
    expect(started.filter(stillRunning).map((p) => p.cmdline)).toEqual([]);
    expect(labPrograms()).toEqual([]);
    // Nothing holds its ports: a new listener can take each of them at once.
    expect(await loopbackPortsFree({ tcp: [httpPort, mqttPort], udp: [accessPointPort] })).toBe(true);
  }, 60_000);
});
