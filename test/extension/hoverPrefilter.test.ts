/**
 * The entry's cheap hover test (extension/hoverPrefilter.ts) must never hide a hover: it is a superset of the real
 * detector (src/explain/weightNames.ts, findWeightNameAt). Source of truth: the weight names and HDF5 paths that real
 * Keras files carry (the inspect reports of ../shared/keras-reference files, Keras 1, 2 and 3), written in the ways
 * users meet them, checked at every column; plus ordinary code, where the prefilter must stay quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { inspectModel } from '../../src/explain/inspect';
import { findWeightNameAt } from '../../src/explain/weightNames';
import { mayNameWeight } from '../../extension/hoverPrefilter';

const REF = join(__dirname, '../../../shared/keras-reference');

function referenceFiles(): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    if (!existsSync(d) || depth > 3) return;
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p, depth + 1);
      else if (/\.(h5|keras)$/.test(n.name)) out.push(p);
    }
  };
  walk(REF, 0);
  // A spread over the collection (Keras 1 split arrays, Keras 2, Keras 3 archives), not all of it.
  return out.sort().filter((_, i) => i % 7 === 0).slice(0, 40);
}

test('every weight name the real detector finds passes the prefilter, at every column', async () => {
  const names = new Set<string>(['lstm_1_W_i', 'lstm_1_U_f:0', 'dense_1_b', 'batchnormalization_1_running_mean', 'gru_1/gru_cell/recurrent_kernel']);
  for (const f of referenceFiles()) {
    const file = await openModelFile(f);
    try {
      const r = await inspectModel(file);
      for (const l of r.layers) for (const w of l.weights) names.add(w.name).add(w.path);
    } finally {
      file.close();
    }
  }
  assert.ok(names.size > 100, `a real corpus of names (${names.size})`);
  let found = 0;
  for (const name of names) {
    for (const line of [`w = f['${name}']`, `${name}`, `"weight_names": ["${name}", "x"]`, `see ${name}: gates`]) {
      for (let c = 0; c < line.length; c++) {
        if (findWeightNameAt(line, c)) {
          found++;
          assert.ok(mayNameWeight(line, c), `prefilter hides ${JSON.stringify(line)} at ${c}`);
        }
      }
    }
  }
  assert.ok(found > 1000);
});

test('ordinary code does not pass the prefilter (the core stays unloaded)', () => {
  for (const line of ['for i in range(10): print(i)', 'model.fit(x_train, y_train, epochs=5)', 'import numpy as np', '{"name": "value", "count": 3}']) {
    for (let c = 0; c < line.length; c++) assert.equal(mayNameWeight(line, c), false, `${line} at ${c}`);
  }
});
