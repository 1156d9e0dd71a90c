// B5, API throughput: Fastify's hello-world and the real broker (child processes on loopback, the
// broker with a seeded fleet), both driven by autocannon from this process, same machine, same run.
// Prints reads and durable writes per second, p50/p99 latency, the server's CPU time per request
// (from /proc: less disturbed by other loads than req/s) and the ratio to hello-world.
// Writes are durable: the broker answers a mutation only once the SQLite write-ahead log holding
// it has been fsynced (group commit, docs/performance.md).
// Each figure is the median of ROUNDS autocannon runs (3 × 10 s in full mode, 1 × 3 s in --quick),
// hello-world and broker runs alternating so both see the same background load,
// after a short warm-up run that is not counted.
// Usage: npm run build && node bench/api.mjs [--quick] [--gateways 300] [--connections 50]
//        [--duration S] [--rounds N] [--only id|list|writes] [--keep-data]
//        [--profile DIR] (writes the broker's .cpuprofile into DIR and keeps the data directory)
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    gateways: { type: 'string', default: '300' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'string' },
    // Only one kind of broker figure (to profile it alone): id, list or writes.
    only: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
  },
});
const QUICK = values.quick;
const GATEWAYS = Number(values.gateways);
const CONNECTIONS = Number(values.connections);
const DURATION = Number(values.duration ?? (QUICK ? 3 : 10));
const ROUNDS = Number(values.rounds ?? (QUICK ? 1 : 3));
const WARMUP = QUICK ? 1 : 2;
const TOKEN = 'bench-token-0123456789abcdef';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const READ_TARGET = 10_000;
const WRITE_TARGET = 1_000;

/** Starts `node args` and resolves with the child and the first stdout match of `ready`. */
function startChild(args, ready, { env = {}, stderrFile } = {}) {
  const stderr = stderrFile ? openSync(stderrFile, 'w') : 'inherit';
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (!match) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({ child, match });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => reject(new Error(`child ${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

function stopChild(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

const HELLO_WORLD = `
import Fastify from 'fastify';
const app = Fastify();
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write('listening ' + app.server.address().port + '\\n');
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

/** One autocannon run; `paths` rotate per request so reads and writes spread over the fleet. */
function cannon(url, { method = 'GET', paths, body, duration }) {
  let next = 0;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    headers,
    requests: [
      {
        method,
        setupRequest: (request) => {
          const i = next++;
          const path = paths[i % paths.length];
          return body ? { ...request, path, body: JSON.stringify(body(i)) } : { ...request, path };
        },
      },
    ],
  });
}

/** User + system CPU seconds a child has used so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One measured autocannon run: 2xx per second, latency, and the server's CPU time per 2xx. */
async function runOnce(target, request) {
  const cpuBefore = cpuSeconds(target.pid);
  const result = await cannon(target.url, { ...request, duration: DURATION });
  const ok = result['2xx'];
  return {
    perSecond: ok / result.duration,
    cpuMicros: ((cpuSeconds(target.pid) - cpuBefore) / ok) * 1e6,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** The median run (by req/s) of several, with the failures of all of them. */
function summary(runs) {
  const perSecond = median(runs.map((run) => run.perSecond));
  const middle = runs.find((run) => run.perSecond === perSecond);
  const cpuMicros = median(runs.map((run) => run.cpuMicros));
  return { ...middle, cpuMicros, failed: runs.reduce((sum, run) => sum + run.failed, 0), runs };
}

/**
 * Hello-world and the broker in alternate runs (hello, broker, hello, broker...), so both see the
 * same background load; the ratio is the median of the per-round ratios.
 */
async function measurePair(hello, broker, request) {
  await cannon(hello.url, { paths: ['/'], duration: WARMUP });
  await cannon(broker.url, { ...request, duration: WARMUP });
  const helloRuns = [];
  const brokerRuns = [];
  for (let r = 0; r < ROUNDS; r++) {
    helloRuns.push(await runOnce(hello, { paths: ['/'] }));
    brokerRuns.push(await runOnce(broker, request));
  }
  const ratio = median(brokerRuns.map((run, r) => run.perSecond / helloRuns[r].perSecond));
  return { figure: summary(brokerRuns), hello: summary(helloRuns), ratio };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** `target` null: a figure shown for reference, held to no target. */
function report(label, { figure, hello, ratio }, target) {
  const met = figure.perSecond >= target ? 'met' : 'NOT MET';
  const verdict = target === null ? 'no target (50 gateways a page)' : `target ≥ ${fmt(target)}/s ${met}`;
  const runs = (summary) => summary.runs.map((run) => fmt(run.perSecond)).join(', ');
  process.stdout.write(
    `B5 ${label}: ${fmt(figure.perSecond)} req/s (p50 ${figure.p50} ms, p99 ${figure.p99} ms, ` +
      `non-2xx/errors ${figure.failed}, server CPU ${fmt(figure.cpuMicros)} µs/req); ` +
      `fastify hello-world ${fmt(hello.perSecond)} req/s (${fmt(hello.cpuMicros)} µs/req); ` +
      `ratio ${ratio.toFixed(2)}; ${verdict}` +
      (ROUNDS > 1 ? ` [runs: ${runs(figure)}; hello-world ${runs(hello)}]` : '') +
      '\n',
  );
}

/** The API client used to seed the fleet; any non-2xx answer stops the benchmark. */
function apiClient(base) {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

async function inBatches(count, width, task) {
  for (let start = 0; start < count; start += width) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + width); i++) batch.push(task(i));
    await Promise.all(batch);
  }
}

function devicePublicKey() {
  const { publicKey } = generateKeyPairSync('ed25519');
  return Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('base64');
}

/**
 * A fleet like a customer's: GATEWAYS branches, a third of them with a device bound and activated,
 * half in one of five CCNs attached to a CEN with a VPC, each with its own /24, and every one
 * using one of two ACLs of ten rules.
 */
async function seed(api) {
  const cen = await api('POST', '/v1/cens', { name: 'Company network' });
  const vpc = await api('POST', '/v1/vpcs', {
    name: 'Shanghai VPC',
    region: 'cn-shanghai',
    cidrBlocks: ['10.1.0.0/16'],
  });
  await api('POST', `/v1/cens/${cen.id}/attachments`, { instanceType: 'vpc', instanceId: vpc.id });
  const ccns = [];
  for (let c = 0; c < 5; c++)
    ccns.push(await api('POST', '/v1/ccns', { name: `Region ${c}`, area: 'china-mainland' }));
  const acls = [];
  for (let a = 0; a < 2; a++) {
    const acl = await api('POST', '/v1/acls', { name: `Branch policy ${a}` });
    for (let r = 0; r < 10; r++) {
      await api('POST', `/v1/acls/${acl.id}/rules`, {
        name: `rule-${r}`,
        direction: r % 2 ? 'in' : 'out',
        policy: r % 3 ? 'accept' : 'drop',
        priority: 10 + r,
        protocol: 'tcp',
        sourceCidr: '172.16.0.0/12',
        sourcePortRange: '-1/-1',
        destCidr: '10.1.0.0/16',
        destPortRange: `${8000 + r}/${8000 + r}`,
      });
    }
    acls.push(acl);
  }
  const ids = new Array(GATEWAYS);
  await inBatches(GATEWAYS, 16, async (i) => {
    const gateway = await api('POST', '/v1/gateways', {
      name: `Branch ${i}`,
      area: 'china-mainland',
      spec: 'sag-1000',
      bandwidthMbps: 100,
      subscriptionMonths: 12,
      description: `branch office ${i}`,
    });
    ids[i] = gateway.id;
    await api('PUT', `/v1/gateways/${gateway.id}/acl`, { aclId: acls[i % 2].id });
    if (i % 2 === 0) {
      await api('PUT', `/v1/gateways/${gateway.id}/network`, {
        privateCidrs: [`172.${16 + (i >> 8)}.${i & 255}.0/24`],
        ccnId: ccns[i % 5].id,
        cenId: cen.id,
      });
    }
    if (i % 3 === 0) {
      await api('PUT', `/v1/gateways/${gateway.id}/device`, {
        serialNumber: `SAGBENCH${String(i).padStart(6, '0')}`,
        publicKey: devicePublicKey(),
      });
      await api('POST', `/v1/gateways/${gateway.id}/activate`, {});
    }
  });
  return ids;
}

function startHelloWorld() {
  return startChild(['--input-type=module', '-e', HELLO_WORLD], /listening (\d+)\n/);
}

function startBroker(dataDir) {
  const configFile = join(dataDir, 'broker.json');
  // The per-client rate limit would cap one benchmarking client far below the target.
  writeFileSync(
    configFile,
    JSON.stringify({ quotas: { gateways: 20_000 }, rateLimitPerMinute: 100_000_000 }),
  );
  const profile = values.profile ? [`--cpu-prof`, `--cpu-prof-dir=${values.profile}`] : [];
  const args = [
    ...profile,
    'packages/broker/dist/cli.js',
    '--data-dir',
    join(dataDir, 'data'),
    '--http',
    '127.0.0.1:0',
    '--mqtt',
    '127.0.0.1:0',
    '--access-point',
    '127.0.0.1:0',
    '--config',
    configFile,
  ];
  return startChild(args, /API:\s+(http:\/\/\S+)\/v1\n/, {
    env: { SAG_API_TOKEN: TOKEN },
    stderrFile: join(dataDir, 'broker.log'),
  });
}

/** Both servers up (hello-world idles while the broker is measured, and the other way round). */
async function run(dataDir) {
  const helloChild = await startHelloWorld();
  let brokerChild;
  try {
    brokerChild = await startBroker(dataDir);
    const hello = { url: `http://127.0.0.1:${helloChild.match[1]}`, pid: helloChild.child.pid };
    const broker = { url: brokerChild.match[1], pid: brokerChild.child.pid };
    const started = performance.now();
    const ids = await seed(apiClient(broker.url));
    process.stdout.write(
      `seeded ${GATEWAYS} gateways, 5 CCNs, a CEN with a VPC, 2 ACLs of 10 rules in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s (broker log: ${join(dataDir, 'broker.log')})\n`,
    );
    const gatewayPaths = ids.map((id) => `/v1/gateways/${id}`);
    const wanted = (name) => values.only === undefined || values.only === name;
    if (wanted('id')) {
      report(
        'reads GET /v1/gateways/{id}',
        await measurePair(hello, broker, { paths: gatewayPaths }),
        READ_TARGET,
      );
    }
    if (wanted('list')) {
      const list = await measurePair(hello, broker, { paths: ['/v1/gateways?limit=50'] });
      report('reads GET /v1/gateways?limit=50', list, null);
    }
    if (wanted('writes')) {
      const writes = await measurePair(hello, broker, {
        method: 'PATCH',
        paths: gatewayPaths,
        body: (i) => ({ description: `branch office, revision ${i}` }),
      });
      report('durable writes PATCH /v1/gateways/{id}', writes, WRITE_TARGET);
    }
  } finally {
    if (brokerChild) await stopChild(brokerChild.child);
    await stopChild(helloChild.child);
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'opensag-bench-api-'));
try {
  process.stdout.write(
    `B5 API: ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s per figure (median), ` +
      'hello-world and broker runs alternating, autocannon in this process\n',
  );
  await run(dataDir);
} finally {
  if (!values['keep-data'] && !values.profile) rmSync(dataDir, { recursive: true, force: true });
}
