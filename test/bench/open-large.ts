/**
 * Benchmark (not a test): how lazy is opening a large Keras file?
 *
 *   node --import tsx test/bench/open-large.ts [SIZE_MB=1024]
 *
 * Writes a ~1 GB Keras 2 .h5 (a stack of LSTM(2048) layers) into a temp dir, then times
 *   1. openModelFile + listing every layer and weight shape (no weight reads),
 *   2. reading one 64 MB weight,
 * printing wall time and RSS after each step. The measurements run in a fresh child process so the writer's
 * memory does not count. The temp dir is removed at the end.
 */
import '../fixtures/fast-h5wasm';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/formats/open';
import { writeKeras2H5, type FixtureLayerWeights } from '../fixtures/writers';

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const rss = () => mb(process.memoryUsage().rss);

/** Writes a ~`targetMb` MB Keras 2 .h5 (a stack of LSTM(2048) layers) at `path`; returns the layer count. */
export async function writeLargeModel(path: string, targetMb: number): Promise<number> {
  const units = 2048;
  const perLayer = (units * 4 * units * 2 + 4 * units) * 4; // kernel + recurrent kernel + bias, float32
  const count = Math.max(1, Math.round((targetMb * 2 ** 20) / perLayer));
  // One shared array per shape keeps the writer's memory low; values differ per layer only in the bias.
  const big = new Float32Array(units * 4 * units);
  for (let i = 0; i < big.length; i++) big[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const layersCfg: unknown[] = [];
  const layers: FixtureLayerWeights[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `lstm_${i}`;
    layersCfg.push({
      class_name: 'LSTM',
      config: {
        name,
        units,
        return_sequences: i < count,
        activation: 'tanh',
        recurrent_activation: 'hard_sigmoid',
        use_bias: true,
        ...(i === 1 ? { batch_input_shape: [null, 10, units] } : {}),
      },
    });
    layers.push({
      name,
      className: 'LSTM',
      weights: [
        { name: `${name}/kernel:0`, shape: [units, 4 * units], data: big },
        { name: `${name}/recurrent_kernel:0`, shape: [units, 4 * units], data: big },
        { name: `${name}/bias:0`, shape: [4 * units], data: new Float32Array(4 * units).fill(i) },
      ],
    });
  }
  await writeKeras2H5(path, { modelConfig: { class_name: 'Sequential', config: { name: 'big', layers: layersCfg } }, layers });
  return count;
}

async function main(): Promise<void> {
  const targetMb = Number(process.argv[2] ?? 1024);
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-bench-'));
  const path = join(dir, 'large.h5');
  try {
    const t = performance.now();
    const count = await writeLargeModel(path, targetMb);
    console.log(`wrote ${path}: ${mb(statSync(path).size)} (${count} x LSTM(2048)) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1], '--measure', path], { stdio: 'inherit' });
    if (child.status !== 0) throw new Error('measurement failed');
  } finally {
    if (!process.env.KEEP_BENCH) rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(path: string): Promise<void> {
  {
    console.log(`RSS before open: ${rss()}`);
    let t = performance.now();
    const m = await openModelFile(path);
    let weights = 0;
    let params = 0;
    for (const l of m.layers) {
      for (const w of l.weights) {
        weights++;
        params += w.shape.reduce((a, b) => a * b, 1);
      }
    }
    const tOpen = performance.now() - t;
    console.log(`first openModelFile (includes loading h5wasm) + list ${m.layers.length} layers / ${weights} weights / ${params.toLocaleString()} params: ${tOpen.toFixed(0)} ms, RSS ${rss()}`);

    t = performance.now();
    const one = await m.layers[Math.floor(m.layers.length / 2)].weights[1].read();
    const tRead = performance.now() - t;
    console.log(`read one weight (${mb(one.byteLength)}): ${tRead.toFixed(0)} ms, RSS ${rss()}`);
    const bias = await m.layers[m.layers.length - 1].weights[2].read();
    if (bias[0] !== m.layers.length) throw new Error('read back the wrong bias');
    m.close();

    t = performance.now();
    const again = await openModelFile(path);
    const n = again.layers.reduce((s, l) => s + l.weights.length, 0);
    console.log(`second openModelFile + list (${n} weights, h5wasm already loaded): ${(performance.now() - t).toFixed(0)} ms, RSS ${rss()}`);
    again.close();
  }
}

if (require.main === module) {
  (process.argv[2] === '--measure' ? measure(process.argv[3]) : main()).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
