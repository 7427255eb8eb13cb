#!/usr/bin/env node
// Thin launcher: the CLI is bundled to dist/cli.js by `npm run build` (run by `npm test` and `npm start`).
require('../dist/cli.js').run(process.argv.slice(2));
