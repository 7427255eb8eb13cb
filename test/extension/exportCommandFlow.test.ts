/**
 * Keras Lens: Export Predictor… end to end without VS Code: the real ExportCommand with a fake `vscode` (quick pick,
 * save dialog, progress, workspace.fs on the real disk) and a model worker served in this thread by the real
 * ModelService. It must write the predictor the user picked into the folder, mark `run` executable, open the
 * README, ask before replacing a non-empty folder (and leave it alone when the user says no), and the written
 * predictor must pass its own self-test. Source of truth: issue 10's flow and the predictor's golden.json.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import Module = require('node:module');
import { ModelService } from '../../extension/worker/service';
import type { WorkerPort } from '../../extension/worker/client';
import type { CallMessage, WorkerMessage } from '../../extension/worker/protocol';

const MODEL = join(__dirname, '../../../shared/keras-reference/dl4j/examples/functional_lstm/lstm_functional_tf_keras_2.h5');

class Uri {
  constructor(readonly fsPath: string) {}
  get scheme() {
    return 'file';
  }
  get path() {
    return this.fsPath;
  }
  toString() {
    return `file://${this.fsPath}`;
  }
  with(change: { path?: string }) {
    return new Uri(change.path ?? this.fsPath);
  }
  static file(p: string) {
    return new Uri(p);
  }
  static parse(s: string) {
    return new Uri(s.replace(/^file:\/\//, ''));
  }
  static joinPath(u: Uri, ...parts: string[]) {
    return new Uri(join(u.fsPath, ...parts));
  }
}

const answers: { language?: string; folder?: string; replace?: string } = {};
const shown: string[] = [];
const errors: string[] = [];
const fakeVscode = {
  Uri,
  FileType: { File: 1, Directory: 2 },
  TabInputCustom: class {},
  ProgressLocation: { Notification: 15 },
  window: {
    tabGroups: { activeTabGroup: { activeTab: undefined } },
    showQuickPick: async (items: { language: string }[]) => items.find((i) => i.language === answers.language),
    showSaveDialog: async () => (answers.folder ? Uri.file(answers.folder) : undefined),
    showOpenDialog: async () => undefined,
    showWarningMessage: async () => answers.replace,
    showErrorMessage: async (m: string) => void errors.push(m),
    withProgress: async (_o: unknown, f: (p: { report(): void }, t: { isCancellationRequested: boolean; onCancellationRequested(): { dispose(): void } }) => Promise<unknown>) =>
      f({ report() {} }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) }),
    showTextDocument: async () => undefined,
  },
  commands: { executeCommand: async (id: string, uri: Uri) => void shown.push(`${id} ${uri.fsPath}`) },
  workspace: {
    getConfiguration: () => ({ get: (_k: string, d: unknown) => d }),
    openTextDocument: async () => ({}),
    fs: {
      stat: async (u: Uri) => {
        const st = fs.statSync(u.fsPath);
        return { type: st.isDirectory() ? 2 : 1, size: st.size };
      },
      readDirectory: async (u: Uri) => fs.readdirSync(u.fsPath).map((n) => [n, 1]),
      createDirectory: async (u: Uri) => void fs.mkdirSync(u.fsPath, { recursive: true }),
      writeFile: async (u: Uri, c: Uint8Array) => {
        fs.mkdirSync(dirname(u.fsPath), { recursive: true });
        fs.writeFileSync(u.fsPath, c);
      },
      rename: async (a: Uri, b: Uri) => fs.renameSync(a.fsPath, b.fsPath),
      delete: async (u: Uri) => fs.rmSync(u.fsPath, { recursive: true, force: true }),
      readFile: async (u: Uri) => fs.readFileSync(u.fsPath),
    },
  },
};

/** A model worker in this thread: the real ModelService answering the client's messages. */
function inThreadWorker(): WorkerPort {
  const service = new ModelService({ memoryLimitMB: 4096, faults: '' });
  let handler: (m: WorkerMessage) => void = () => {};
  return {
    post: (m: CallMessage) => void service.reply(m.id, m.call, (r) => handler(r as WorkerMessage)),
    onMessage: (h) => (handler = h),
    onExit: () => {},
    terminate: () => {},
  };
}

let root = '';
let ExportCommand: typeof import('../../extension/exportCommand').ExportCommand;
const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
const load = M._load;

before(() => {
  M._load = function (req: string, ...rest: unknown[]) {
    return req === 'vscode' ? fakeVscode : load.call(this, req, ...rest);
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ExportCommand = (require('../../extension/exportCommand') as typeof import('../../extension/exportCommand')).ExportCommand;
  root = fs.mkdtempSync(join(tmpdir(), 'keras-lens-export-command-'));
});
after(() => {
  M._load = load;
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('Export Predictor…: writes the chosen language into the folder, run is executable, the README opens, it self-tests', { skip: !fs.existsSync(MODEL) && 'no ../shared/keras-reference' }, async () => {
  const models = { active: null } as never;
  const cmd = new ExportCommand(models, inThreadWorker, false);
  const out = join(root, 'lstm-js');
  Object.assign(answers, { language: 'js', folder: out });
  const got = await cmd.run(Uri.file(MODEL) as never);
  assert.deepEqual(errors, []);
  assert.equal(got, out);
  assert.deepEqual(fs.readdirSync(out).sort(), ['README.md', 'golden.json', 'main.mjs', 'model.d.ts', 'model.mjs', 'run']);
  assert.ok((fs.statSync(join(out, 'run')).mode & 0o111) !== 0, 'run is executable');
  assert.deepEqual(shown, [`markdown.showPreview ${join(out, 'README.md')}`]);
  const self = spawnSync(join(out, 'run'), ['--self-test'], { encoding: 'utf8' });
  assert.equal(self.status, 0, self.stdout + self.stderr);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('keras-lens')), [], 'no temporary folder left');
});

test('Export Predictor…: a non-empty folder is replaced only when the user says Replace', { skip: !fs.existsSync(MODEL) && 'no ../shared/keras-reference' }, async () => {
  const cmd = new ExportCommand({ active: null } as never, inThreadWorker, false);
  const out = join(root, 'busy');
  fs.mkdirSync(out);
  fs.writeFileSync(join(out, 'notes.txt'), 'mine');
  Object.assign(answers, { language: 'numpy', folder: out, replace: undefined });
  assert.equal(await cmd.run(Uri.file(MODEL) as never), null);
  assert.deepEqual(fs.readdirSync(out), ['notes.txt'], 'left alone');
  answers.replace = 'Replace';
  assert.equal(await cmd.run(Uri.file(MODEL) as never), out);
  assert.ok(fs.existsSync(join(out, 'model.py')) && !fs.existsSync(join(out, 'notes.txt')));
});
