// The functions a .cpuprofile spent its own time in, heaviest first, and the same by module.
// Usage: node bench/lib/profileSummary.mjs FILE.cpuprofile [--top 20]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Self time per node id in ms, from the samples and their time deltas. */
function selfTimes(profile) {
  const ms = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // Each delta is the time before sample i; attributing it to sample i is the DevTools convention.
    ms.set(samples[i], (ms.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0) / 1000);
  }
  return ms;
}

function where(url) {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith('/') ? relative(ROOT, path) : path;
}

/** The module a frame belongs to: a package under node_modules, a workspace package, or node itself. */
function moduleOf(url) {
  const path = where(url);
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (dep) return dep[1];
  const own = /^packages\/([^/]+)\/dist\/([^/]+)/.exec(path);
  if (own) return `${own[1]}/${own[2].replace(/\.js$/, '')}`;
  if (path.startsWith('node:')) return 'node';
  return path === '(native)' ? '(native/V8)' : path;
}

export function summariseProfile(profile, top = 20) {
  const self = selfTimes(profile);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byModule = new Map();
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const frame = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || '(anonymous)'} ${where(url)}${url ? `:${lineNumber + 1}` : ''}`;
  };
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (ms === 0) continue;
    const { functionName, url } = node.callFrame;
    // A native function (a SQLite statement, a socket write) says little without its JavaScript caller.
    let caller = parent.get(node.id);
    while (caller && !caller.callFrame.url && caller.callFrame.functionName !== '(root)')
      caller = parent.get(caller.id);
    const native = !url && !functionName.startsWith('(');
    let owner = caller;
    while (owner && !/packages\//.test(owner.callFrame.url) && owner.callFrame.functionName !== '(root)')
      owner = parent.get(owner.id);
    const via = owner && owner !== caller && owner.callFrame.url ? ` ← ${frame(owner)}` : '';
    const key = native && caller ? `${frame(node)} ← ${frame(caller)}${via}` : frame(node);
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const mod = native && caller?.callFrame.url ? moduleOf(caller.callFrame.url) : moduleOf(url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
  }
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: total > 0 ? ms / total : 0 }));
  return { totalMs: Math.round(total), functions: rank(byFunction), modules: rank(byModule) };
}

export function formatSummary(summary, label) {
  const line = (e) =>
    `  ${String(e.ms).padStart(7)} ms ${(100 * e.share).toFixed(1).padStart(5)}%  ${e.name}`;
  return [
    `${label}: ${summary.totalMs} ms sampled; self time by function`,
    ...summary.functions.map(line),
    `${label}: self time by module`,
    ...summary.modules.slice(0, 12).map(line),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '20' } },
  });
  for (const file of positionals) {
    const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')), Number(values.top));
    console.log(formatSummary(summary, file));
  }
}
