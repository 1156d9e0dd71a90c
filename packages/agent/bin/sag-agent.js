#!/usr/bin/env node
// The installed `sag-agent` command; the program itself is built into dist/ by `npm run build`.
import '../dist/cli.js';
