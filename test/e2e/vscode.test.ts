/**
 * Keras Lens in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven through Debian's Chromium.
 * One code-server for the whole file; each test leaves a screenshot in test-output/screenshots/.
 * Needs `bash scripts/e2e/setup.sh` (run by .ci/run). Without it the suite is skipped locally, never in CI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  codeServerInstalled,
  newRunDir,
  projectRoot,
  startVSCode,
  withScreenOnFailure,
  type VSCode,
} from '../../scripts/e2e/harness';

const inCI = !!process.env.CI && process.env.CI !== 'false';
const skip =
  !codeServerInstalled() && !inCI
    ? 'code-server is not installed (.e2e/code-server missing): run `bash scripts/e2e/setup.sh` to enable the VS Code E2E suite'
    : false;
if (skip) console.log(`# SKIP e2e: ${skip}`);

describe('Keras Lens in VS Code (code-server)', { skip }, () => {
  let vsc: VSCode;
  let workspace: string;

  before(async () => {
    const runDir = newRunDir('e2e');
    workspace = join(runDir, 'workspace');
    mkdirSync(workspace, { recursive: true });
    vsc = await startVSCode({
      workspace,
      runDir,
      withExtension: existsSync(join(projectRoot, 'dist', 'extension.js')),
    });
  });

  after(async () => {
    await vsc?.stop();
  });

  test('the workbench opens on the workspace folder', { timeout: 120_000 }, async () => {
    await withScreenOnFailure(vsc, 'workbench', async () => {
      await vsc.page.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 30_000 });
      const title = await vsc.page.title();
      assert.match(title, /workspace/i, `window title names the folder: ${title}`);
      await vsc.screenshot('workbench');
    });
  });
});
