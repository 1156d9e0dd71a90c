#!/usr/bin/env node
// `npm run build:agent`: the agent as one self-contained file for a gateway box (dist/agent/), with
// its systemd unit and example config. The box needs Node.js 20 and nothing from npm.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'agent');
const agentCli = join(root, 'packages/agent/dist/cli.js');
const agentMain = join(root, 'packages/agent/dist/cli/main.js');
const bundleFile = join(outDir, 'sag-agent.mjs');
const PACKAGING = ['sag-agent.service', 'agent.example.json'];
// The fuse every Node.js binary carries for single-executable applications.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const agentVersion = JSON.parse(readFileSync(join(root, 'packages/agent/package.json'), 'utf8')).version;

// The agent reads its version from package.json next to dist/ at run time; a bundle has no
// package.json beside it, so the version is written into the bundle instead.
const VERSION_LOOKUP = /readFileSync\(new URL\('\.\.\/\.\.\/package\.json', import\.meta\.url\), 'utf8'\)/;
const inlineAgentVersion = {
  name: 'inline-agent-version',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]agent[\\/]dist[\\/]session[\\/]hello\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!VERSION_LOOKUP.test(source)) {
        return {
          errors: [
            {
              text: `${relative(root, args.path)} no longer reads the version from ../../package.json; update the version inlining in scripts/build-agent.mjs`,
            },
          ],
        };
      }
      const manifest = JSON.stringify(JSON.stringify({ version: agentVersion }));
      return { contents: source.replace(VERSION_LOOKUP, manifest), loader: 'js' };
    });
  },
};

// Optional native speed-ups that ws and debug try to require() and do without; stubbed as absent
// so the bundle never looks for anything on disk but Node.js built-ins.
const OPTIONAL_ADDONS = /^(bufferutil|utf-8-validate|supports-color)$/;
const leaveOutOptionalAddons = {
  name: 'leave-out-optional-addons',
  setup(esbuild) {
    esbuild.onResolve({ filter: OPTIONAL_ADDONS }, (args) => ({ path: args.path, namespace: 'absent' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
      contents: `throw Object.assign(new Error("Cannot find module '${args.path}'"), { code: 'MODULE_NOT_FOUND' });`,
      loader: 'js',
    }));
  },
};

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  legalComments: 'eof',
  logLevel: 'warning',
  plugins: [inlineAgentVersion, leaveOutOptionalAddons],
};

function ensureBuilt() {
  const needed = [agentCli, join(root, 'packages/proto/dist/index.js')];
  if (needed.every((file) => existsSync(file))) return;
  console.log('build:agent: packages not built yet; running npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

/** The ES module bundle: mqtt, protobufjs and ipaddr.js inside, Node.js built-ins outside. */
async function bundleAgent() {
  const result = await build({
    ...shared,
    entryPoints: [agentCli],
    write: false,
    metafile: true,
    outfile: bundleFile,
    format: 'esm',
    // Bundled CommonJS code (protobufjs, mqtt's dependencies) calls require(), which an ES module lacks.
    banner: {
      js: [
        "import { createRequire as __sagCreateRequire } from 'node:module';",
        'const require = __sagCreateRequire(import.meta.url);',
      ].join('\n'),
    },
  });
  // esbuild keeps the entry's hashbang above the banner; the bundle gets exactly one, first.
  const code = result.outputFiles[0].text.replace(/^(#!.*\n)+/, '');
  writeFileSync(bundleFile, `#!/usr/bin/env node\n${code}`, { mode: 0o755 });
  chmodSync(bundleFile, 0o755);
  return result.metafile;
}

/** The licence texts of the npm packages inside the bundle, which their licences ask to ship. */
function writeThirdPartyLicenses(metafile) {
  const packageDirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packageDirs.add(join(root, match[1]));
  }
  const sections = [...packageDirs].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const licenceFile = readdirSync(dir).find((name) => /^(licen[cs]e|copying)/i.test(name));
    const text = licenceFile ? readFileSync(join(dir, licenceFile), 'utf8').trim() : '(no licence file)';
    return `${manifest.name} ${manifest.version} (${manifest.license ?? 'see text'})\n\n${text}\n`;
  });
  const file = join(outDir, 'THIRD-PARTY-LICENSES.txt');
  writeFileSync(file, `Packages bundled into sag-agent.mjs\n\n${sections.join(`\n${'-'.repeat(72)}\n\n`)}`);
  return sections.length;
}

/**
 * A single executable (Node.js SEA): only when postject is installed. Node 20 runs an embedded
 * script as CommonJS, which has no top-level await, so this entry mirrors src/cli.ts with a promise.
 */
async function singleExecutable() {
  let postjectCli;
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('postject/package.json');
    postjectCli = join(dirname(manifest), 'dist', 'cli.js');
  } catch {
    return null;
  }
  const seaDir = join(outDir, 'sea');
  mkdirSync(seaDir, { recursive: true });
  const script = join(seaDir, 'sag-agent.cjs');
  await build({
    ...shared,
    stdin: {
      contents: `import { main } from ${JSON.stringify(agentMain)};
const stopRequested = new Promise((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});
main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopRequested,
}).then((code) => process.stdout.write('', () => process.exit(code)));`,
      resolveDir: root,
      loader: 'js',
    },
    outfile: script,
    format: 'cjs',
  });
  const blob = join(seaDir, 'sag-agent.blob');
  const seaConfig = join(seaDir, 'sea-config.json');
  writeFileSync(
    seaConfig,
    JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }),
  );
  const prepared = spawnSync(process.execPath, ['--experimental-sea-config', seaConfig], {
    encoding: 'utf8',
  });
  if (prepared.status !== 0) throw new Error(`node --experimental-sea-config failed: ${prepared.stderr}`);
  const binary = join(outDir, 'sag-agent');
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  // postject's ELF writer warns about note sections it leaves alone; shown only if it fails.
  const injected = spawnSync(
    process.execPath,
    [postjectCli, binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE],
    { encoding: 'utf8' },
  );
  if (injected.status !== 0) throw new Error(`postject failed: ${injected.stderr}${injected.stdout}`);
  rmSync(seaDir, { recursive: true, force: true });
  return binary;
}

function size(file) {
  const bytes = statSync(file).size;
  return bytes > 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

async function main() {
  ensureBuilt();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const metafile = await bundleAgent();
  const bundled = writeThirdPartyLicenses(metafile);
  for (const name of PACKAGING) copyFileSync(join(root, 'packaging', name), join(outDir, name));
  const binary = await singleExecutable();
  console.log(`build:agent: sag-agent ${agentVersion} in ${relative(root, outDir)}/`);
  console.log(`  sag-agent.mjs  ${size(bundleFile)}  (node sag-agent.mjs --help; Node.js >= 20)`);
  if (binary) console.log(`  sag-agent      ${size(binary)}  (single executable, this machine's Node.js)`);
  else console.log('  (no single executable: postject is not installed; see docs/device.md)');
  for (const name of PACKAGING) console.log(`  ${name}`);
  console.log(`  THIRD-PARTY-LICENSES.txt  (${bundled} bundled npm packages)`);
}

main().catch((err) => {
  console.error(`build:agent: ${err.message}`);
  process.exit(1);
});
