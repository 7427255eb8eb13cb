/**
 * `npm run bench` (second part): the export.
 *   (a) a 10 MB Keras 2 .h5 (LSTM(520) over 640 features + Dense(256), 2.55 M float32 weights): open + build +
 *       export + write, per language, wall-clock seconds (the goal: under 5 s each);
 *   (b) the exported C predictor (built with C_BUILD_FLAGS as ./run does, float32, no allocation) against our engine's predict() on the bench case
 *       of bench-rnn.ts (LSTM(128), 100 steps of 64 features, batch 1 and 32): median CPU milliseconds per predict
 *       (and wall-clock), after warm-up, and the ratio. Skipped, saying so, where no C compiler is installed.
 * The LAST line is one JSON object with the numbers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModelFile } from '../../src/formats/open';
import { buildModel } from '../../src/model/graph';
import { predict } from '../../src/engine/predict';
import { C_BUILD_FLAGS, exportPredictor } from '../../src/export/index';
import { LANGUAGES } from '../../src/export/plan';
import { writeExport } from '../../src/cli/export';
import { writeKeras2H5, type FixtureLayerWeights, type RawModelConfig } from '../fixtures/writers';
import { seededRandom } from '../fixtures/models';

function uniform(n: number, scale: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

function lstmModel(name: string, steps: number, features: number, units: number, dense: number | null): { config: RawModelConfig; layers: FixtureLayerWeights[] } {
  const rand = seededRandom(units * 31 + features);
  const layers: unknown[] = [
    {
      class_name: 'LSTM',
      config: { name: 'lstm_1', units, batch_input_shape: [null, steps, features], return_sequences: false, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true },
    },
  ];
  const weights: FixtureLayerWeights[] = [
    {
      name: 'lstm_1',
      className: 'LSTM',
      weights: [
        { name: 'lstm_1/kernel:0', shape: [features, 4 * units], data: uniform(features * 4 * units, Math.sqrt(6 / (features + 4 * units)), rand) },
        { name: 'lstm_1/recurrent_kernel:0', shape: [units, 4 * units], data: uniform(units * 4 * units, Math.sqrt(6 / (5 * units)) * 1.5, rand) },
        { name: 'lstm_1/bias:0', shape: [4 * units], data: uniform(4 * units, 0.1, rand) },
      ],
    },
  ];
  if (dense) {
    layers.push({ class_name: 'Dense', config: { name: 'dense_1', units: dense, activation: 'linear', use_bias: true } });
    weights.push({
      name: 'dense_1',
      className: 'Dense',
      weights: [
        { name: 'dense_1/kernel:0', shape: [units, dense], data: uniform(units * dense, 0.05, rand) },
        { name: 'dense_1/bias:0', shape: [dense], data: uniform(dense, 0.1, rand) },
      ],
    });
  }
  return { config: { class_name: 'Sequential', config: { name, layers } }, layers: weights };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keras-lens-bench-export-'));
  const report: Record<string, unknown> = {};
  try {
    // (a) a 10 MB model
    const big = lstmModel('big', 20, 640, 520, 256);
    const bigPath = join(dir, 'big.h5');
    await writeKeras2H5(bigPath, { modelConfig: big.config, layers: big.layers });
    const floats = big.layers.flatMap((l) => l.weights).reduce((a, w) => a + w.data.length, 0);
    console.log(`export of a ${((floats * 4) / 1e6).toFixed(1)} MB model (${floats} float32 weights): open + build + export + write`);
    const times: Record<string, number> = {};
    for (const lang of LANGUAGES) {
      const t0 = performance.now();
      const file = await openModelFile(bigPath);
      try {
        const model = await buildModel(file);
        const r = await exportPredictor(model, lang);
        writeExport(join(dir, `big-${lang}`), r.files, { force: false, protect: [bigPath] });
      } finally {
        file.close();
      }
      times[lang] = (performance.now() - t0) / 1000;
      console.log(`  ${lang.padEnd(8)} ${times[lang].toFixed(2)} s${times[lang] < 5 ? '' : '  (over 5 s)'}`);
    }
    report.export10MBSeconds = times;

    // (b) the C predictor against the engine
    if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) {
      console.log('C predictor bench skipped: no C compiler (cc) installed');
    } else {
      const steps = 100;
      const features = 64;
      const units = 128;
      const small = lstmModel('bench', steps, features, units, null);
      const p = join(dir, 'bench.h5');
      await writeKeras2H5(p, { modelConfig: small.config, layers: small.layers });
      const file = await openModelFile(p);
      const model = await buildModel(file);
      const r = await exportPredictor(model, 'c');
      const cdir = join(dir, 'bench-c');
      writeExport(cdir, r.files, { force: false, protect: [] });
      const results: Record<string, { engineMs: number; cMs: number }> = {};
      for (const batch of [1, 32]) {
        const rand = seededRandom(batch);
        const x = uniform(batch * steps * features, 1, rand);
        const runs = batch === 1 ? 60 : 12;
        // engine
        const input = { shape: [batch, steps, features], data: Float64Array.from(x) };
        for (let k = 0; k < 3; k++) await predict(model, input);
        // CPU time of this process per predict (robust when other processes share the cores), and wall-clock
        const engine: number[] = [];
        const engineWall: number[] = [];
        for (let k = 0; k < runs; k++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await predict(model, input);
          engineWall.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          engine.push((c.user + c.system) / 1000);
        }
        // C: a timing main around the exported kl_predict
        writeFileSync(
          join(cdir, 'bench.c'),
          `#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "model.h"
static float ws[KL_WORKSPACE_FLOATS];
static int cmp(const void *a, const void *b) { double x = *(const double *) a, y = *(const double *) b; return x < y ? -1 : x > y; }
int main(void) {
  int batch = ${batch}, runs = ${runs}, k; long i, n = (long) batch * KL_INPUT0_SIZE;
  float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * batch * KL_OUTPUT0_SIZE);
  double t[${runs}], w[${runs}];
  unsigned s = 1;
  for (i = 0; i < n; i++) { s = s * 1103515245u + 12345u; x[i] = (float) ((s >> 8) % 20001) / 10000.0f - 1.0f; }
  for (k = 0; k < 3; k++) kl_predict(batch, x, y, ws);
  for (k = 0; k < runs; k++) {
    struct timespec a, b, wa, wb;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    clock_gettime(CLOCK_MONOTONIC, &wa);
    kl_predict(batch, x, y, ws);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    clock_gettime(CLOCK_MONOTONIC, &wb);
    t[k] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    w[k] = (wb.tv_sec - wa.tv_sec) * 1e3 + (wb.tv_nsec - wa.tv_nsec) / 1e6;
  }
  qsort(t, runs, sizeof(double), cmp);
  qsort(w, runs, sizeof(double), cmp);
  printf("%f %f %f\\n", t[runs / 2], w[runs / 2], (double) y[0]);
  return 0;
}
`,
        );
        const cc = spawnSync('cc', [...C_BUILD_FLAGS, '-o', join(cdir, 'bench'), join(cdir, 'model.c'), join(cdir, 'bench.c'), '-lm'], { encoding: 'utf8' });
        if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`);
        const out = spawnSync(join(cdir, 'bench'), { encoding: 'utf8' });
        const [cMs, cWallMs] = out.stdout.trim().split(' ').map(Number);
        results[`batch${batch}`] = { engineMs: median(engine), cMs, engineWallMs: median(engineWall), cWallMs } as { engineMs: number; cMs: number };
        console.log(
          `LSTM(${units}) ${steps} steps x ${features} features, batch ${batch}: CPU ms per predict: engine ${median(engine).toFixed(2)}, exported C (${C_BUILD_FLAGS.join(' ')}, float32) ${cMs.toFixed(2)}  -> C is ${(median(engine) / cMs).toFixed(2)}x the engine's speed (wall: ${median(engineWall).toFixed(2)} vs ${cWallMs.toFixed(2)} ms)`,
        );
      }
      file.close();
      report.cPredictor = results;
    }
  } finally {
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(dir);
  }
  console.log(JSON.stringify(report));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
