// B6, agent apply: a gateway config with 1,000 routes and an ACL of 50 rules, applied by the data
// plane. Three cases, median of rounds: first apply (empty → config), a change (10 routes and one
// ACL rule differ) and the same config again (nothing to change). The config goes through the
// agent's real path: protobuf encode → decode → DeviceConfig → validation.
//   emulated: in this process.
//   linux (root only): in a network namespace `osb-apply-<pid>` with dummy ports, the data plane
//   running `ip`, `nft`, `wg` and wireguard-go there; tunnels point at 127.0.0.1 only. The
//   namespace, and every process in it (wireguard-go), is removed on exit, also on error.
// Usage: npm run build && node bench/agentApply.mjs [--quick] [--rounds N] [--skip-linux]
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateDeviceConfig } from '../packages/agent/dist/config.js';
import { EmulatedDataPlane } from '../packages/agent/dist/dataplane/emulated/emulatedDataPlane.js';
import { deviceConfigFromDesired } from '../packages/agent/dist/session/desiredConfig.js';
import { decodeDesiredConfig, encodeDesiredConfig } from '../packages/proto/dist/index.js';

const TARGET_MS = 200;
const ROUTES = 1000;
const ACL_RULES = 50;
const CHANGED_ROUTES = 10;
const NAMESPACE_PREFIX = 'osb-apply-';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'skip-linux': { type: 'boolean', default: false },
    // Prints, per linux case, each program the data plane ran and how long it took (last round).
    profile: { type: 'boolean', default: false },
    // Internal: this process is the measurement inside the namespace; prints JSON figures.
    'linux-child': { type: 'string' },
  },
});
const EMULATED_ROUNDS = Number(values.rounds ?? (values.quick ? 9 : 31));
const LINUX_ROUNDS = Number(values.rounds ?? (values.quick ? 3 : 9));

/** A fresh WireGuard public key (X25519, base64), as an access point would report it. */
function wireguardPublicKey() {
  const { publicKey } = generateKeyPairSync('x25519');
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}

/** The i-th /24 in 10.0.0.0/8, skipping 10.200/16 and up (where the changed routes go). */
const routeBlock = (i) => `10.${i >> 8}.${i & 255}.0/24`;

function aclRule(i, changed) {
  const protocol = ['tcp', 'udp', 'icmp', 'all'][i % 4];
  const port = protocol === 'icmp' ? '-1/-1' : `${1000 + i}/${1000 + i}`;
  return {
    id: `aclr-${String(i).padStart(3, '0')}`,
    name: `rule ${i}`,
    direction: i % 2 === 0 ? 'out' : 'in',
    policy: i % 3 === 0 ? 'accept' : 'drop',
    priority: i + 1,
    protocol,
    sourceCidr: i % 2 === 0 ? '172.16.0.0/16' : `10.${i}.0.0/16`,
    sourcePortRange: '-1/-1',
    destCidr: i % 2 === 0 ? `10.${i}.0.0/16` : '172.16.0.0/16',
    destPortRange: changed && i === 7 ? '8443/8443' : port,
  };
}

/**
 * The wire form of the config (`DesiredConfig`). `changed` moves CHANGED_ROUTES routes to other
 * blocks and changes one ACL rule's port.
 */
function desiredConfig({ revision, changed, keys }) {
  const routes = Array.from({ length: ROUTES }, (_, i) => ({
    destination: changed && i % (ROUTES / CHANGED_ROUTES) === 0 ? `10.200.${i >> 2}.0/24` : routeBlock(i),
    nextHop: 'tunnel',
    sourceResourceId: `vpc-${i % 20}`,
    sourceKind: 'vpc',
  })).sort((a, b) => (a.destination < b.destination ? -1 : 1));
  return {
    revision,
    hash: `sha256:bench-${revision}`,
    gatewayId: 'sag-bench',
    serialNumber: 'SAGBENCH0001',
    ports: {
      wan: [
        {
          name: 'wan0',
          mode: 'static',
          address: '192.0.2.1/24',
          gateway: '192.0.2.2',
          dns: [],
          priority: 1,
          username: '',
          password: '',
        },
      ],
      lan: [{ name: 'lan0', address: '172.16.0.1/24', dhcp: null }],
    },
    privateCidrs: ['172.16.0.0/16'],
    tunnels: [
      { accessPoint: 'ap-bench-1', address: '127.0.0.1:7000', publicKey: keys[0], role: 'active' },
      { accessPoint: 'ap-bench-2', address: '127.0.0.1:7002', publicKey: keys[1], role: 'standby' },
    ],
    keepalive: { intervalMs: 1000, multiplier: 3, lossWindow: 20, holdDownMs: 10_000 },
    routes,
    aclRules: Array.from({ length: ACL_RULES }, (_, i) => aclRule(i, changed)),
    aclId: 'acl-bench',
  };
}

/** Through the agent's own path: protobuf bytes → DesiredConfig → DeviceConfig → validation. */
function deviceConfig(bytes) {
  const config = deviceConfigFromDesired(decodeDesiredConfig(bytes));
  const problems = validateDeviceConfig(config);
  if (problems.length > 0) throw new Error(`benchmark config rejected: ${problems.join('; ')}`);
  return config;
}

/** The three configs as the broker would push them (protobuf bytes). */
function pushes(keys) {
  return {
    first: encodeDesiredConfig(desiredConfig({ revision: 1, changed: false, keys })),
    change: encodeDesiredConfig(desiredConfig({ revision: 2, changed: true, keys })),
    same: encodeDesiredConfig(desiredConfig({ revision: 3, changed: true, keys })),
  };
}

function configs(keys) {
  const wire = pushes(keys);
  return {
    first: deviceConfig(wire.first),
    change: deviceConfig(wire.change),
    same: deviceConfig(wire.same),
  };
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function timed(task) {
  const started = performance.now();
  await task();
  return performance.now() - started;
}

/**
 * Per round: reset (not timed), first apply, change apply, same again; then verify of the last
 * (the agent verifies after every apply), timed on its own.
 */
async function measure(plane, set, rounds, counter = () => 0) {
  const figures = { first: [], change: [], same: [], verify: [], commands: { first: 0, change: 0, same: 0 } };
  for (let round = 0; round < rounds; round++) {
    await plane.reset();
    for (const step of ['first', 'change', 'same']) {
      const before = counter();
      figures[step].push(await timed(() => plane.apply(set[step])));
      figures.commands[step] = counter() - before;
    }
    let problems = [];
    figures.verify.push(
      await timed(async () => {
        problems = await plane.verify(set.same);
      }),
    );
    if (problems.length > 0) throw new Error(`verify after apply found: ${problems.slice(0, 5).join('; ')}`);
  }
  await plane.reset();
  return {
    first: median(figures.first),
    change: median(figures.change),
    same: median(figures.same),
    verify: median(figures.verify),
    rounds,
    commands: figures.commands,
  };
}

const ms = (value) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function report(name, figures, extra = '') {
  const worst = Math.max(figures.first, figures.change, figures.same);
  console.log(
    `B6 ${name} first apply ${ROUTES.toLocaleString('en')} routes + ${ACL_RULES} ACL rules: median ${ms(figures.first)} ms (${figures.rounds} rounds); change (${CHANGED_ROUTES} routes, 1 ACL rule): ${ms(figures.change)} ms; same again: ${ms(figures.same)} ms; target ≤ ${TARGET_MS} ms${worst <= TARGET_MS ? ' (met)' : ' (NOT met)'}`,
  );
  console.log(`B6 ${name} verify after apply: median ${ms(figures.verify)} ms${extra}`);
}

async function emulated() {
  const keys = [wireguardPublicKey(), wireguardPublicKey()];
  const wire = pushes(keys);
  const decodeMs = [];
  for (let i = 0; i < 15; i++) decodeMs.push(await timed(async () => deviceConfig(wire.first)));
  const set = configs(keys);
  const figures = await measure(
    new EmulatedDataPlane({ hardwarePorts: ['wan0', 'lan0'] }),
    set,
    EMULATED_ROUNDS,
  );
  report('emulated', figures);
  console.log(
    `B6 decode + validate of the pushed config (${(wire.first.length / 1024).toFixed(0)} KiB of protobuf): median ${ms(median(decodeMs))} ms (15 rounds)`,
  );
}

/** Runs inside the namespace (spawned by `linux()`): measures and prints the figures as JSON. */
async function linuxChild(stateDir) {
  const { LinuxDataPlane } = await import('../packages/agent/dist/dataplane/linux/linuxDataPlane.js');
  const { shellRunner } = await import('../packages/agent/dist/dataplane/linux/shellRunner.js');
  // The data plane's own default runner (one long-lived shell), wrapped to count and time programs.
  const shell = shellRunner();
  let commands = 0;
  const log = [];
  const runner = async (cmd, args, options) => {
    commands++;
    const started = performance.now();
    const result = await shell.run(cmd, args, options);
    log.push(
      `${(performance.now() - started).toFixed(1).padStart(7)} ms  ${[cmd, ...args].join(' ').slice(0, 90)}`,
    );
    return result;
  };
  const plane = await LinuxDataPlane.open({ stateDir, runner });
  const set = configs([wireguardPublicKey(), wireguardPublicKey()]);
  const figures = await measure(plane, set, LINUX_ROUNDS, () => commands);
  if (values.profile) {
    // One more round, listing what each case ran.
    await plane.reset();
    for (const step of ['first', 'change', 'same']) {
      log.length = 0;
      const total = await timed(() => plane.apply(set[step]));
      process.stderr.write(`-- ${step}: ${total.toFixed(1)} ms\n${log.join('\n')}\n`);
    }
    await plane.reset();
  }
  await plane.close();
  shell.close();
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** Runs `ip …` on the host; throws with its stderr. */
function ip(...args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`ip ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

/** Kills every process left in the namespace (wireguard-go), then deletes it. */
async function removeNamespace(name) {
  const pids = (await ip('netns', 'pids', name).catch(() => ''))
    .split('\n')
    .map((pid) => Number(pid))
    .filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await ip('netns', 'del', name).catch(() => undefined);
}

/** Namespaces an earlier run left behind when it was killed outright (its pid is gone). */
async function removeStaleNamespaces() {
  const list = await ip('netns', 'list').catch(() => '');
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (!name.startsWith(NAMESPACE_PREFIX)) continue;
    const pid = Number(name.slice(NAMESPACE_PREFIX.length));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive && pid !== process.pid) await removeNamespace(name);
  }
}

function missingTool() {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  return ['ip', 'nft', 'wg', 'wireguard-go'].find(
    (tool) =>
      !dirs.some((dir) => {
        try {
          accessSync(join(dir, tool), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

async function linux() {
  if (values['skip-linux']) {
    console.log('B6 linux skipped: --skip-linux');
    return;
  }
  if (process.getuid?.() !== 0) {
    console.log(
      `B6 linux skipped: needs root to create a network namespace and program routes, nftables and WireGuard there (running as uid ${process.getuid?.() ?? '?'})`,
    );
    return;
  }
  const missing = missingTool();
  if (missing) {
    console.log(`B6 linux skipped: ${missing} is not installed (needs ip, nft, wg, wireguard-go)`);
    return;
  }
  await removeStaleNamespaces();
  const namespace = `${NAMESPACE_PREFIX}${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'osb-apply-'));
  const cleanup = async () => {
    await removeNamespace(namespace);
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await ip('netns', 'add', namespace);
    // The ports are veth pairs inside the namespace (the dummy module may be missing).
    for (const [name, address] of [
      ['wan0', '192.0.2.1/24'],
      ['lan0', null],
    ]) {
      await ip('-n', namespace, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}-peer`);
      if (address) await ip('-n', namespace, 'address', 'add', address, 'dev', name);
      await ip('-n', namespace, 'link', 'set', `${name}-peer`, 'up');
      await ip('-n', namespace, 'link', 'set', name, 'up');
    }
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
    const figures = await runChild(namespace, dir);
    report(
      'linux',
      figures,
      `; programs run per apply: first ${figures.commands.first}, change ${figures.commands.change}, same again ${figures.commands.same}`,
    );
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The measurement runs in the namespace as the agent would (programs started directly, no
 * `ip netns exec` per command), with a private /var/run/wireguard so its wireguard-go sockets
 * cannot meet another namespace's.
 */
function runChild(namespace, dir) {
  const script =
    'mkdir -p /var/run/wireguard "$1/wg" "$1/state" && mount --bind "$1/wg" /var/run/wireguard && shift && exec "$@"';
  const args = [
    'netns',
    'exec',
    namespace,
    'sh',
    '-c',
    script,
    'sh',
    dir,
    process.execPath,
    fileURLToPath(import.meta.url),
    '--linux-child',
    join(dir, 'state'),
    ...(values.rounds ? ['--rounds', values.rounds] : []),
    ...(values.quick ? ['--quick'] : []),
    ...(values.profile ? ['--profile'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line));
      else reject(new Error(`the measurement in namespace ${namespace} exited ${code}: ${out.trim()}`));
    });
  });
}

if (values['linux-child']) {
  await linuxChild(values['linux-child']);
} else {
  await emulated();
  await linux();
}
