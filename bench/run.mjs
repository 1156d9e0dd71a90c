// Runs the benchmark suite one script at a time (they would disturb each other's figures on a
// shared machine), passing --quick through. Each script prints its own `Bn` lines.
// Usage: npm run bench [-- --quick] [-- --only compile,api]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const SUITE = [
  { name: 'compile', script: 'compile.mjs', args: [], what: 'B2 incremental compile' },
  { name: 'edges', script: 'compile.mjs', args: ['--edges'], what: 'B2 with edge-run access points' },
  {
    name: 'push',
    script: 'compile.mjs',
    node: ['--expose-gc'],
    args: ['--fleet'],
    what: "B1, the broker's side in process",
  },
  { name: 'apply', script: 'agentApply.mjs', args: [], what: 'B6 agent apply' },
  { name: 'api', script: 'api.mjs', args: [], what: 'B5 API throughput' },
  { name: 'fleet', script: 'fleet.mjs', args: [], what: 'B1 convergence, B3 broker memory, B4 storms' },
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`npm run bench [-- --quick] [-- --only ${SUITE.map((b) => b.name).join(',')}]

Runs each benchmark in turn and prints its figures; see docs/performance.md.
  --quick   a smaller fleet and fewer rounds (a few minutes; what CI runs)
  --only    a comma-separated subset of: ${SUITE.map((b) => `${b.name} (${b.what})`).join(', ')}`);
  process.exit(0);
}
const chosen = values.only ? values.only.split(',').map((name) => name.trim()) : SUITE.map((b) => b.name);
const unknown = chosen.filter((name) => !SUITE.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; choose from ${SUITE.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const failed = [];
const suiteStarted = performance.now();
for (const bench of SUITE.filter((b) => chosen.includes(b.name))) {
  const args = [...bench.args, ...(values.quick ? ['--quick'] : [])];
  console.log(
    `\n== ${bench.what} (node ${[...(bench.node ?? []), `bench/${bench.script}`, ...args].join(' ')})`,
  );
  const started = performance.now();
  const code = await run([...(bench.node ?? []), join(here, bench.script), ...args]);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (code !== 0) failed.push(`${bench.name} (exit ${code})`);
  console.log(`== ${bench.name} ${code === 0 ? 'done' : `FAILED with exit ${code}`} in ${seconds} s`);
}
console.log(
  `\nbenchmarks ${failed.length === 0 ? 'finished' : `failed: ${failed.join(', ')}`} in ${((performance.now() - suiteStarted) / 1000).toFixed(0)} s`,
);
process.exitCode = failed.length === 0 ? 0 : 1;

function run(argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
