/**
 * `inspect` over the fixture models written in every format the writers know (Keras 2 .h5 and save_weights,
 * Keras 1.2 model and save_weights, Keras 3 .keras and .weights.h5). Expected layouts come from the fixture's
 * own config (units) and Keras's gate orders (LSTM i,f,c,o; GRU z,r,h); Keras 1 arrays are checked by their data
 * against the fused Keras 2 fixture columns.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectModel, type InspectReport } from '../../src/explain/inspect';
import { describeCell, explainWeightName } from '../../src/explain/words';
import { openModelFile } from '../../src/formats/open';
import type { ModelFile } from '../../src/model/types';
import { fixtureModels, type FixtureModel } from '../fixtures/models';
import { writeKeras1H5, writeKeras2H5, writeKeras2WeightsH5, writeKeras3Keras, writeKeras3WeightsH5, type FixtureWeight } from '../fixtures/writers';

const GATES: Record<string, string[]> = { LSTM: ['i', 'f', 'c', 'o'], CuDNNLSTM: ['i', 'f', 'c', 'o'], GRU: ['z', 'r', 'h'], CuDNNGRU: ['z', 'r', 'h'], ConvLSTM2D: ['i', 'f', 'c', 'o'] };

let dir = '';
const models = fixtureModels();
const written: { model: FixtureModel; format: string; path: string }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keras-lens-inspect-'));
  for (const m of models) {
    const p = (ext: string) => join(dir, `${m.id}.${ext}`);
    await writeKeras2H5(p('k2.h5'), { modelConfig: m.keras2Config, layers: m.layers });
    written.push({ model: m, format: 'keras2', path: p('k2.h5') });
    await writeKeras2WeightsH5(p('k2w.h5'), { layers: m.layers });
    written.push({ model: m, format: 'keras2-weights', path: p('k2w.h5') });
    if (m.keras1Config) {
      await writeKeras1H5(p('k1.h5'), { modelConfig: m.keras1Config, layers: m.layers, backend: 'theano' });
      written.push({ model: m, format: 'keras1', path: p('k1.h5') });
      await writeKeras1H5(p('k1w.h5'), { layers: m.layers });
      written.push({ model: m, format: 'keras1-weights', path: p('k1w.h5') });
    }
    if (m.keras3Config) {
      await writeKeras3Keras(p('keras'), { config: m.keras3Config, layers: m.layers });
      written.push({ model: m, format: 'keras3', path: p('keras') });
      await writeKeras3WeightsH5(p('weights.h5'), { config: m.keras3Config, layers: m.layers });
      written.push({ model: m, format: 'keras3-weights', path: p('weights.h5') });
    }
  }
});

async function withFile<T>(path: string, fn: (file: ModelFile, report: InspectReport) => Promise<T>): Promise<T> {
  const file = await openModelFile(path);
  try {
    return await fn(file, await inspectModel(file));
  } finally {
    file.close();
  }
}

function fixtureClass(m: FixtureModel, layerName: string): string | undefined {
  return m.layers.find((l) => l.name === layerName)?.className;
}

function unitsOf(w: FixtureWeight[]): number {
  const rk = w.find((x) => x.name.includes('recurrent_kernel'))!;
  return rk.shape[rk.shape.length - 2];
}

test('every fixture in every format inspects, with gate blocks for its recurrent layers', async () => {
  assert.ok(written.length >= 30, `wrote ${written.length} files`);
  for (const { model, format, path } of written) {
    await withFile(path, async (_file, report) => {
      const total = model.layers.flatMap((l) => l.weights).reduce((a, w) => a + w.data.length, 0);
      assert.equal(report.totalParams, total, `${model.id} ${format}: total parameters`);
      if (!report.weightsOnly) assert.deepEqual(report.notes ?? [], [], `${model.id} ${format}: notes`);
      for (const fl of model.layers) {
        const cls = fl.className ?? '';
        const inner = cls === 'Bidirectional' ? 'LSTM' : cls;
        const gates = GATES[inner];
        if (!gates) continue;
        const u = unitsOf(fl.weights);
        // Keras 3 weights-only files name groups by class, not by layer: find the layer holding these weights.
        const layer =
          report.layers.find((l) => l.name === fl.name) ??
          report.layers.find((l) => l.weights.length > 0 && (l.innerClassName ?? l.className) === inner && !l.weights.some((w) => w.shape.length === 0));
        assert.ok(layer, `${model.id} ${format}: layer ${fl.name} in ${report.layers.map((l) => l.name)}`);
        assert.equal(layer.innerClassName ?? layer.className, inner, `${model.id} ${format}: class`);
        for (const w of layer.weights) {
          if (w.gate) {
            assert.deepEqual(
              w.blocks.map((b) => [b.label, b.start, b.end]),
              [[w.gate, 0, u]],
            );
            continue;
          }
          const expected = gates.map((g, k) => [g, k * u, (k + 1) * u]);
          const cudnnBias = w.role === 'bias' && cls.startsWith('CuDNN');
          assert.deepEqual(
            w.blocks.map((b) => [b.label, b.start, b.end]),
            cudnnBias ? [...expected, ...gates.map((g, k) => [g, (gates.length + k) * u, (gates.length + k + 1) * u])] : expected,
            `${model.id} ${format}: ${w.name}`,
          );
        }
      }
    });
  }
});

test('Keras 1 split arrays: the array labelled <g> holds the fused Keras 2 columns of gate <g> (LSTM and GRU)', async () => {
  for (const { model, format, path } of written.filter((x) => x.format === 'keras1' || x.format === 'keras1-weights')) {
    await withFile(path, async (file, report) => {
      for (const fl of model.layers) {
        const gates = GATES[fl.className ?? ''];
        if (!gates) continue;
        const u = unitsOf(fl.weights);
        const layer = report.layers.find((l) => l.name === fl.name)!;
        const refs = file.layers.find((l) => l.layer === fl.name)!.weights;
        assert.equal(layer.weights.length, 3 * gates.length);
        for (const w of layer.weights) {
          const fused = fl.weights.find((x) => x.name.endsWith(`/${w.role}:0`))!;
          const g = gates.indexOf(w.gate!);
          assert.ok(g >= 0, `${w.name}: gate ${w.gate}`);
          const data = await refs.find((r) => r.name === w.name)!.read();
          const cols = fused.shape[fused.shape.length - 1];
          const rows = fused.data.length / cols;
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < u; c++) assert.equal(data[r * u + c], Math.fround(fused.data[r * cols + g * u + c]), `${model.id} ${format} ${w.name}`);
          }
        }
      }
    });
  }
});

test('two-input model written as a real .h5: Dense rows 0-127 from lstm_1, row 128 from aux_input', async () => {
  for (const { format, path } of written.filter((x) => x.model.id === 'two_input' && (x.format === 'keras2' || x.format === 'keras3'))) {
    await withFile(path, async (_file, report) => {
      const k = report.layers.find((l) => l.name === 'dense_1')!.weights.find((w) => w.role === 'kernel')!;
      assert.deepEqual(
        k.rows.map((r) => [r.source, r.start, r.end]),
        [
          ['lstm_1', 0, 128],
          ['aux_input', 128, 129],
        ],
        format,
      );
      assert.match(describeCell(k, 128, 0), /from aux_input feature 0 into dense_1 unit 0$/);
    });
  }
});

test('CuDNN LSTM bias (8u): input-bias half then recurrent-bias half, each i,f,c,o', async () => {
  const { path } = written.find((x) => x.model.id === 'cudnn_lstm' && x.format === 'keras2')!;
  await withFile(path, async (_file, report) => {
    const bias = report.layers.find((l) => l.name === 'cu_dnnlstm_1')!.weights.find((w) => w.role === 'bias')!;
    assert.deepEqual(bias.shape, [32]);
    // u = 4: column 21 is in the recurrent half (16..32), gate f (20..24), unit 1.
    const text = describeCell(bias, 0, 21);
    assert.match(text, /forget gate/);
    assert.match(text, /recurrent/);
    assert.match(text, /unit 1$/);
    assert.match(describeCell(bias, 0, 2), /input gate.*input.* unit 2$|input bias.*input gate.* unit 2$/);
  });
});

test('GRU reset_after (Keras 2 and Keras 3): bias rows input bias / recurrent bias', async () => {
  for (const { format, path } of written.filter((x) => x.model.id === 'gru_reset_after')) {
    await withFile(path, async (_file, report) => {
      const layer = report.layers.find((l) => l.weights.some((w) => w.role === 'bias' && w.shape.length === 2))!;
      const bias = layer.weights.find((w) => w.role === 'bias')!;
      assert.deepEqual(bias.shape, [2, 12], format);
      assert.deepEqual(
        bias.rows.map((r) => r.source),
        ['input bias', 'recurrent bias'],
        format,
      );
      assert.match(describeCell(bias, 1, 5), /recurrent bias of the reset gate of unit 1$/);
    });
  }
});

test('Keras 3 weights-only: classes guessed from the variable groups', async () => {
  const { path } = written.find((x) => x.model.id === 'lstm' && x.format === 'keras3-weights')!;
  const file = await openModelFile(path);
  try {
    if (file.model) return; // the reader found an architecture: covered above
    const report = await inspectModel(file);
    const lstm = report.layers.find((l) => l.weights.length === 3)!;
    assert.equal(lstm.className, 'LSTM');
    assert.deepEqual(
      lstm.weights.map((w) => w.role),
      ['kernel', 'recurrent_kernel', 'bias'],
    );
  } finally {
    file.close();
  }
});

test('Keras 3 .keras: hovering a variable path explains it with the model (vars/1 of the LSTM cell = recurrent kernel)', async () => {
  const { path } = written.find((x) => x.model.id === 'lstm' && x.format === 'keras3')!;
  await withFile(path, async (_file, report) => {
    const md = explainWeightName(`v = f['layers/lstm/cell/vars/1']`, { report })!;
    assert.match(md, /recurrent_kernel/);
    assert.match(md, /h\(t-1\) units 0–3/);
    assert.match(md, /shape \(4, 16\)/);
    assert.match(md, /\| \[4, 8\) \| \*\*f\*\* — forget gate \|/);
    assert.match(md, /get_layer\('lstm_1'\)\.get_weights\(\)\[1\]/);
  });
});
