/**
 * Operation nodes with damaged arguments: the op nodes of real files (Keras 3 ops_more / ops_extra from
 * test/fixtures/keras3-ops, tf.keras tf_shape / tf_getitem / tf_constants from test/fixtures/tf-keras-ops) with
 * seeded random values written over their settings and call arguments. Rule (the project's): predict either runs
 * or refuses with one KerasLensError line — never another exception, a stack trace or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { normalizeModelConfig } from '../../src/model/config';
import { buildModel } from '../../src/model/graph';
import { parseInputJson, predict } from '../../src/engine/predict';
import { KerasLensError, type ModelFile } from '../../src/model/types';
import { openModelFile } from '../../src/formats/open';
import { seededRandom } from '../fixtures/models';

const FIX = join(__dirname, '../fixtures');
type Json = unknown;

function keras3Config(name: string): Json {
  return JSON.parse(execFileSync('unzip', ['-p', join(FIX, 'keras3-ops', name, 'model.keras'), 'config.json'], { encoding: 'utf8' }));
}

async function tfKerasConfig(name: string): Promise<Json> {
  const h5wasm = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(join(FIX, 'tf-keras-ops', name, 'model.h5'), 'r');
  try {
    return JSON.parse(String(f.attrs.model_config.value));
  } finally {
    f.close();
  }
}

const JUNK: Json[] = [null, -1, 0, 7, 1e9, -1e9, 2.5, 'x', '', true, [], [[]], [1, 'a'], {}, { class_name: '__slice__', config: {} }, { class_name: '__ellipsis__' }, { $tensor: 99 }, [-5, 5, 0]];

/** Overwrites one random leaf (or subtree) of the op layers' config / inbound_nodes. */
function mutate(cfg: Json, rnd: () => number, isOp: (l: Record<string, unknown>) => boolean): Json {
  const c = structuredClone(cfg) as { config: { layers: Record<string, unknown>[] } };
  const ops = c.config.layers.filter(isOp);
  const layer = ops[Math.floor(rnd() * ops.length)];
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 6 || typeof v !== 'object' || v === null) return;
    for (const k of Object.keys(v)) {
      if (k === 'name' || k === 'keras_history') continue;
      slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
      walk((v as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(layer.config, 0);
  walk(layer.inbound_nodes, 0);
  if (slots.length) {
    const [holder, key] = slots[Math.floor(rnd() * slots.length)];
    (holder as Record<string, unknown>)[key as string] = JUNK[Math.floor(rnd() * JUNK.length)];
  }
  return c;
}

/** The real file's weights under a damaged architecture. */
async function runsOrRefuses(file: ModelFile, raw: Json, input: string, what: string): Promise<'ran' | 'refused'> {
  try {
    const config = normalizeModelConfig(raw, file.kerasVersion, 'model');
    const model = await buildModel({ ...file, model: config, close() {} });
    await predict(model, parseInputJson(input, model, 'input.json'));
    return 'ran';
  } catch (err) {
    assert.ok(err instanceof KerasLensError, `${what}: ${err instanceof Error ? err.stack : String(err)}`);
    assert.ok(!err.message.includes('\n'), `${what}: one line`);
    return 'refused';
  }
}

test('damaged op-node arguments are run or refused in one line, never thrown otherwise', async () => {
  const rnd = seededRandom(9090);
  const seen = { ran: 0, refused: 0 };
  const sources: [ModelFile, Json, string, (l: Record<string, unknown>) => boolean][] = [];
  try {
    for (const name of ['ops_more', 'ops_extra']) {
      const dir = join(FIX, 'keras3-ops', name);
      sources.push([await openModelFile(join(dir, 'model.keras')), keras3Config(name), readFileSync(join(dir, 'input.json'), 'utf8'), (l) => String(l.module ?? '').startsWith('keras.src.ops')]);
    }
    for (const name of ['tf_shape', 'tf_getitem', 'tf_constants']) {
      const dir = join(FIX, 'tf-keras-ops', name);
      sources.push([await openModelFile(join(dir, 'model.h5')), await tfKerasConfig(name), readFileSync(join(dir, 'input.json'), 'utf8'), (l) => /OpLambda$/.test(String(l.class_name))]);
    }
    for (let i = 0; i < 150; i++) {
      const [file, cfg, input, isOp] = sources[i % sources.length];
      seen[await runsOrRefuses(file, mutate(cfg, rnd, isOp), input, `mutation ${i}`)]++;
    }
  } finally {
    for (const [file] of sources) file.close();
  }
  assert.ok(seen.refused > 10 && seen.ran > 10, `both outcomes seen: ${JSON.stringify(seen)}`);
});
