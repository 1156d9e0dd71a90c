#!/usr/bin/env node
// The installed `sagctl` command; the program itself is built into dist/ by `npm run build`.
import { run } from '../dist/sagctl/cli.js';

await run();
