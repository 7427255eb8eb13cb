/**
 * Model work runs in watched worker threads (issue 11, item 1), proved in a real VS Code (code-server + Chromium
 * through scripts/e2e/harness.ts). The test-only hook KERAS_LENS_TEST_FAULTS (extension/worker/faults.ts; inert
 * unless set, and only this test sets it, for the code-server it starts) makes the worker hang for ever while
 * opening `hang_open.h5`, and blow its heap while reading a weight of `oom_weight.h5`. Source of truth: the issue's
 * rule — the worker is ended and replaced, the viewer shows one line naming the file and the operation, and the
 * window stays responsive: while the hang runs and after both faults, another model opens and hovers answer.
 * Skipped locally (never in CI) when code-server is not installed, like the other E2E suites.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { codeServerInstalled, newRunDir, startVSCode, withScreenOnFailure, type VSCode } from '../../scripts/e2e/harness';
import { writeExamples } from '../../scripts/examples';
import { FAULTS_ENV } from '../../extension/worker/faults';

const inCI = !!process.env.CI && process.env.CI !== 'false';
const skip =
  !codeServerInstalled() && !inCI
    ? 'code-server is not installed (.e2e/code-server missing): run `bash scripts/e2e/setup.sh` to enable the VS Code E2E suite'
    : false;
if (skip) console.log(`# SKIP e2e worker: ${skip}`);

/** Long enough that the checks made during the hang finish before the watchdog ends it (start-up allowance on top). */
const TIMEOUT_SECONDS = 25;
const MEMORY_MB = 192;

/** The viewer of `fileName` once its layer list is painted. */
async function viewerWithLayers(vsc: VSCode, fileName: string): Promise<FrameLocator> {
  const view = await vsc.webviewFrame(`[data-testid=file-name]:text-is("${fileName}")`, 90_000);
  await view.locator('[data-testid=layer]').first().waitFor({ timeout: 60_000 });
  return view;
}

/** One error line in the viewer matching `re`; returns its text. */
async function errorLine(view: FrameLocator, re: RegExp, timeoutMs: number): Promise<string> {
  const line = view.locator('[data-testid=error]').filter({ hasText: re }).first();
  await line.waitFor({ timeout: timeoutMs });
  const text = (await line.innerText()).trim();
  assert.ok(!/\n/.test(text.replace(/^Keras Lens could not open this file\.\s*/, '')), `one line: ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /\bat .+:\d+:\d+/, 'no stack trace');
  return text;
}

async function assertHoverAnswers(vsc: VSCode): Promise<void> {
  await vsc.openFile('weights.py');
  const text = await vsc.hoverEditorText('lstm/recurrent_kernel:0', 30_000);
  assert.match(text, /recurrent kernel/i, text);
}

describe('Keras Lens in VS Code: a hanging or exploding model worker', { skip }, () => {
  let vsc: VSCode;
  let workspace: string;

  before(async () => {
    const runDir = newRunDir('e2e-worker');
    workspace = join(runDir, 'workspace');
    mkdirSync(workspace, { recursive: true });
    await writeExamples(workspace);
    copyFileSync(join(workspace, 'lstm_functional_keras2.h5'), join(workspace, 'hang_open.h5'));
    copyFileSync(join(workspace, 'lstm_functional_keras2.h5'), join(workspace, 'oom_weight.h5'));
    // The extension host inherits code-server's environment (harness: isolatedEnv copies process.env).
    const saved = process.env[FAULTS_ENV];
    process.env[FAULTS_ENV] = 'hang:open:hang_open,oom:weight:oom_weight';
    try {
      vsc = await startVSCode({
        workspace,
        runDir,
        settings: { 'kerasLens.worker.timeoutSeconds': TIMEOUT_SECONDS, 'kerasLens.worker.memoryLimitMB': MEMORY_MB },
      });
    } finally {
      if (saved === undefined) delete process.env[FAULTS_ENV];
      else process.env[FAULTS_ENV] = saved;
    }
  });

  after(async () => {
    await vsc?.stop();
  });

  test('a hang while opening: the window stays responsive, then one line names the file and the operation', { timeout: 240_000 }, async () => {
    await withScreenOnFailure(vsc, 'worker-hang', async () => {
      const t0 = Date.now();
      await vsc.openFile('hang_open.h5');
      await vsc.page.locator('.tabs-container .tab', { hasText: 'hang_open.h5' }).first().waitFor({ timeout: 30_000 });
      // While its worker spins: another model opens and a hover answers.
      await vsc.openFile('lstm_functional_keras2.h5');
      await viewerWithLayers(vsc, 'lstm_functional_keras2.h5');
      await assertHoverAnswers(vsc);
      const during = (Date.now() - t0) / 1000;
      assert.ok(during < TIMEOUT_SECONDS, `the other model and the hover answered ${during.toFixed(1)} s after the open, while the hang still ran`);
      // Back to the hung file: the watchdog ends its worker (time limit + the worker start-up allowance).
      await vsc.openFile('hang_open.h5');
      const view = await vsc.webviewFrame('[data-testid=error]', 90_000);
      const text = await errorLine(view, /hang_open\.h5: opening the file did not finish within/, 90_000);
      assert.match(text, new RegExp(`within ${TIMEOUT_SECONDS} s \\(kerasLens\\.worker\\.timeoutSeconds\\); its worker was stopped`), text);
      console.log(`# hang: other model + hover answered ${during.toFixed(1)} s after the hanging open; error shown after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await vsc.screenshot('worker-hang');
    });
  });

  test('a memory blow-up while reading a weight: one line names the file, the weight and the cap', { timeout: 240_000 }, async () => {
    await withScreenOnFailure(vsc, 'worker-oom', async () => {
      await vsc.openFile('oom_weight.h5');
      const view = await viewerWithLayers(vsc, 'oom_weight.h5');
      await view.locator('[data-testid=layer][data-layer="lstm"]').click();
      const section = view.locator('[data-testid=weight][data-weight="lstm/kernel:0"]');
      await section.locator('[data-testid=weight-toggle]').click();
      const text = await errorLine(view, /oom_weight\.h5: reading weight 'lstm\/kernel:0'/, 120_000);
      assert.match(text, new RegExp(`ran out of memory \\(the cap is ${MEMORY_MB} MB, kerasLens\\.worker\\.memoryLimitMB\\)`), text);
      await vsc.screenshot('worker-oom');
    });
  });

  test('after both faults: another model opens, its weights load, hovers answer', { timeout: 240_000 }, async () => {
    await withScreenOnFailure(vsc, 'worker-after', async () => {
      await vsc.openFile('gru_reset_after.h5');
      const view = await viewerWithLayers(vsc, 'gru_reset_after.h5');
      await view.locator('[data-testid=layer][data-layer="gru_1"]').click();
      const weight = view.locator('[data-testid=weight][data-weight="gru_1/bias:0"]');
      await weight.locator('[data-testid=weight-toggle]').click();
      await weight.locator('td[data-row][data-col]').first().waitFor({ timeout: 60_000 });
      await assertHoverAnswers(vsc);
    });
  });
});
