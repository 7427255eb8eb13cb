/**
 * Export Predictor in the extension: the model worker's 'export' op (real ModelService, real model file) returns the
 * predictor's files, and exportWrite.ts puts them in place through a file system (here an in-memory fake with the
 * FolderFs contract): a non-empty folder is refused without force, a folder holding the model never replaced, a
 * failed write leaves nothing behind, and the written `run` is marked executable. Source of truth: issue 10's folder
 * rules; the generated code's correctness is test/export's job (it runs the same exportPredictor).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelService } from '../../extension/worker/service';
import { ExportFolderError, writeExportFolder, type FolderFs } from '../../extension/exportWrite';
import type { ExportJobResult } from '../../extension/exportJob';

const LSTM_K2 = join(__dirname, '../../../shared/keras-reference/dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5');

/** Folders and files in memory; `failOn` makes one write throw. */
function memoryFs(failOn?: string): FolderFs & { files: Map<string, Uint8Array>; dirs: Set<string>; exec: Set<string> } {
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>(['/w']);
  const exec = new Set<string>();
  const under = (p: string) => [...files.keys(), ...dirs].filter((k) => k.startsWith(p + '/'));
  return {
    files,
    dirs,
    exec,
    async list(p) {
      if (files.has(p)) throw new Error(`${p} is a file`);
      if (!dirs.has(p)) return null;
      return [...new Set(under(p).map((k) => k.slice(p.length + 1).split('/')[0]))];
    },
    async mkdir(p) {
      dirs.add(p);
    },
    async write(p, c) {
      if (failOn && p.endsWith(failOn)) throw new Error('disk full');
      files.set(p, c);
    },
    async rename(from, to) {
      if (dirs.has(to) || files.has(to)) throw new Error(`${to} exists`);
      for (const k of under(from)) {
        if (files.has(k)) {
          files.set(to + k.slice(from.length), files.get(k)!);
          files.delete(k);
        } else {
          dirs.add(to + k.slice(from.length));
          dirs.delete(k);
        }
        if (exec.has(k)) exec.add(to + k.slice(from.length));
      }
      dirs.delete(from);
      dirs.add(to);
    },
    async remove(p) {
      for (const k of under(p)) {
        files.delete(k);
        dirs.delete(k);
      }
      dirs.delete(p);
    },
    async makeExecutable(p) {
      exec.add(p);
    },
  };
}

async function exported(): Promise<ExportJobResult> {
  const service = new ModelService({ memoryLimitMB: 2048, faults: '' });
  return (await service.handle({ op: 'export', job: { modelPath: LSTM_K2, language: 'js' } }, () => {})) as ExportJobResult;
}

test('the model worker exports: the predictor files of the open model', async () => {
  const r = await exported();
  assert.equal(r.layers, 2);
  assert.deepEqual(r.files.map((f) => f.path).sort(), ['README.md', 'golden.json', 'main.mjs', 'model.d.ts', 'model.mjs', 'run']);
  assert.match(String(r.files.find((f) => f.path === 'README.md')!.content), /hard_sigmoid = clip\(0\.2x \+ 0\.5, 0, 1\): saved by Keras 2\.0\.8/);
});

test('writing an export: new folder, refused when not empty, replaced with force, nothing partial, run executable', async () => {
  const r = await exported();
  const fs = memoryFs();
  await writeExportFolder(fs, '/w/out', r.files, { force: false, protect: [] });
  assert.ok(fs.files.has('/w/out/model.mjs') && fs.exec.has('/w/out/run'));
  await assert.rejects(() => writeExportFolder(fs, '/w/out', r.files, { force: false, protect: [] }), ExportFolderError);
  fs.files.set('/w/out/stale.txt', new Uint8Array([1]));
  await writeExportFolder(fs, '/w/out', r.files, { force: true, protect: [] });
  assert.ok(!fs.files.has('/w/out/stale.txt'), 'replaced');
  assert.deepEqual([...fs.dirs].filter((d) => d.includes('keras-lens')), [], 'no temporary folder left');

  fs.files.set('/w/models/m.h5', new Uint8Array([7]));
  fs.dirs.add('/w/models');
  await assert.rejects(() => writeExportFolder(fs, '/w/models', r.files, { force: true, protect: ['/w/models/m.h5'] }), /holds m\.h5/);
  assert.ok(fs.files.has('/w/models/m.h5'));

  const failing = memoryFs('golden.json');
  await assert.rejects(() => writeExportFolder(failing, '/w/new', r.files, { force: false, protect: [] }), /disk full/);
  assert.deepEqual([...failing.files.keys()], [], 'nothing partial');
  assert.ok(![...failing.dirs].some((d) => d !== '/w'), 'no folders left');
});
