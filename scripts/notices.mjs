#!/usr/bin/env node
// THIRD_PARTY_NOTICES.md: the licences of the npm packages whose code is inside dist/ (the build strips licence
// comments, `legalComments: 'none'`, so the notices travel as this one file, in the repository and in the .vsix).
// Which packages: every node_modules package a source map in dist/ names, plus their runtime dependencies (jsfive
// carries pako inside its own bundle, so pako's code is in dist/ without being named by a map).
//   node scripts/notices.mjs          rewrite THIRD_PARTY_NOTICES.md (after `npm run build`)
// test/architecture/notices.test.ts fails when the committed file is not what this prints for the current build.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Package names (e.g. `h5wasm`, `@vscode/webview-ui-toolkit`) whose files the bundles in dist/ were built from. */
export function bundledPackages(dist = join(root, 'dist')) {
  const names = new Set();
  const walk = (dir) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.map')) {
        for (const s of JSON.parse(readFileSync(p, 'utf8')).sources ?? []) {
          const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s);
          if (m) names.add(m[1]);
        }
      }
    }
  };
  walk(dist);
  // and what they need at run time (transitively)
  const queue = [...names];
  while (queue.length) {
    const name = queue.pop();
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!names.has(dep) && existsSync(join(root, 'node_modules', dep, 'package.json'))) {
        names.add(dep);
        queue.push(dep);
      }
    }
  }
  return [...names].sort();
}

function licenceText(name) {
  const dir = join(root, 'node_modules', name);
  const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.(md|txt))?$/i.test(f));
  return file ? readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n').trim() : null;
}

/** The whole notices file for the current dist/. */
export function notices(dist) {
  const parts = [
    '# Third-party notices',
    '',
    'Keras Lens bundles code of the following npm packages into `dist/` (and so into the `.vsix`). Their licences',
    'follow, as each package ships them. Written by `node scripts/notices.mjs`.',
  ];
  for (const name of bundledPackages(dist)) {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'));
    const text = licenceText(name);
    parts.push('', `## ${name} ${pkg.version} (${pkg.license ?? 'licence: see below'})`, '');
    if (pkg.homepage) parts.push(pkg.homepage, '');
    parts.push(text ? ['```text', text, '```'].join('\n') : `The package ships no licence file; its package.json says: ${pkg.license ?? 'nothing'}.`);
  }
  return parts.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(root, 'THIRD_PARTY_NOTICES.md'), notices());
  console.log(`THIRD_PARTY_NOTICES.md: ${bundledPackages().join(', ')}`);
}
