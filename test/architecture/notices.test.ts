/**
 * The build strips licence comments from dist/, so THIRD_PARTY_NOTICES.md carries the licences of the npm packages
 * bundled there, and the .vsix ships it. Source of truth: the source maps of the built dist/ (every node_modules
 * package they name is bundled code) and each package's own licence file. Fails when a bundled package is added or
 * updated without `node scripts/notices.mjs` being run, or when the notices lose a licence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '../..');

interface Notices {
  bundledPackages(dist?: string): string[];
  notices(dist?: string): string;
}

test('THIRD_PARTY_NOTICES.md holds the licence of every package bundled into dist/, as scripts/notices.mjs writes it', async () => {
  assert.ok(existsSync(join(root, 'dist/worker.js.map')), 'dist/ is built (npm test builds first)');
  const n = (await import(pathToFileURL(join(root, 'scripts/notices.mjs')).href)) as Notices;
  const packages = n.bundledPackages();
  // the packages the design names: HDF5 readers, the zip reader, the UI toolkit
  for (const p of ['h5wasm', 'jsfive', 'pako', 'fflate', '@vscode/webview-ui-toolkit']) assert.ok(packages.includes(p), `${p} is found as bundled`);
  const committed = readFileSync(join(root, 'THIRD_PARTY_NOTICES.md'), 'utf8');
  for (const p of packages) assert.ok(committed.includes(`\n## ${p} `), `${p} has a section (run node scripts/notices.mjs)`);
  // HDF5's own licence comes inside h5wasm's
  assert.match(committed, /Copyright Notice and License Terms for\s+HDF5/);
  assert.equal(committed, n.notices(), 'THIRD_PARTY_NOTICES.md is current (run node scripts/notices.mjs after npm run build)');
});
