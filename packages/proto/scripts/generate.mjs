#!/usr/bin/env node
// Generates the static protobuf code (src/gen/messages.js + .d.ts) from proto/opensag/v1/*.proto
// and copies it into dist/gen, since tsc compiles only the TypeScript sources. The .proto files are
// read here, at build time, and never at run time.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoRoot = join(packageDir, 'proto');
const protoDir = join(protoRoot, 'opensag', 'v1');
const genDir = join(packageDir, 'src', 'gen');
const distGenDir = join(packageDir, 'dist', 'gen');
const outJs = join(genDir, 'messages.js');
const outDts = join(genDir, 'messages.d.ts');

const require = createRequire(import.meta.url);
const cliDir = dirname(require.resolve('protobufjs-cli/package.json'));
const pbjs = join(cliDir, 'bin', 'pbjs');
const pbts = join(cliDir, 'bin', 'pbts');

function run(bin, args) {
  execFileSync(process.execPath, [bin, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

const protos = readdirSync(protoDir)
  .filter((name) => name.endsWith('.proto'))
  .sort()
  .map((name) => join(protoDir, name));

mkdirSync(genDir, { recursive: true });

// `-w es6` emits `import $protobuf from "protobufjs/minimal.js"`: a default import of a CommonJS
// module, which Node's ESM loader resolves to module.exports.
run(pbjs, [
  '-t',
  'static-module',
  '-w',
  'es6',
  '--es6',
  '--no-verify',
  '--no-delimited',
  '--no-typeurl',
  '--no-service',
  '-p',
  protoRoot,
  '-o',
  outJs,
  ...protos,
]);
run(pbts, ['-o', outDts, outJs]);

// pbts writes a CommonJS-style `import Long = require("long")`, which an ES module may not use;
// long ships an ES default export, so import that instead.
const dts = readFileSync(outDts, 'utf8');
const fixedDts = dts.replace('import Long = require("long");', 'import type Long from "long";');
if (fixedDts === dts && dts.includes('require("long")')) {
  throw new Error('generate.mjs: could not rewrite the Long import in src/gen/messages.d.ts');
}
writeFileSync(outDts, fixedDts);

mkdirSync(distGenDir, { recursive: true });
copyFileSync(outJs, join(distGenDir, 'messages.js'));
copyFileSync(outDts, join(distGenDir, 'messages.d.ts'));

console.log(`generated ${protos.length} .proto files into src/gen and dist/gen`);
