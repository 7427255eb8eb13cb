/**
 * Runs fuzz cases in this process and reports each as one JSON line: {"start": seed} before, the Outcome after.
 * Lines go to fd 3 when the parent opened it (KERAS_LENS_FUZZ_FD=3) (test/fuzz/fuzz.test.ts), else to stdout (reproducing by hand):
 *   node --import tsx test/fuzz/fuzzWorker.ts <h5|keras|json> <firstSeed> <count> <dir>
 */
import { writeSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareCorpus, runCase, type FuzzFormat } from './fuzzCases';

function channel(): number {
  return process.env.KERAS_LENS_FUZZ_FD === '3' ? 3 : 1;
}

async function main() {
  const [format, first, count, dirArg] = process.argv.slice(2);
  const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'keras-lens-fuzz-'));
  const out = channel();
  const say = (o: unknown) => writeSync(out, JSON.stringify(o) + '\n');
  const corpus = await prepareCorpus(dir);
  say({ ready: true });
  for (let seed = Number(first); seed < Number(first) + Number(count); seed++) {
    say({ start: seed });
    const outcome = await runCase(corpus, format as FuzzFormat, seed);
    say(outcome);
  }
  say({ finished: true });
}

main().catch((e) => {
  // the harness itself failed (not a fuzz finding)
  writeSync(channel(), JSON.stringify({ harnessError: String(e instanceof Error ? e.stack : e) }) + '\n');
  process.exitCode = 2;
});
