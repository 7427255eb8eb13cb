/**
 * The entry bundle's cheap test before a hover loads the core: could the word under the cursor be a weight name?
 * A superset of what src/explain/weightNames.ts recognises (its token is [A-Za-z0-9_/:]+): Keras 2/3 names always
 * have a `/` (`lstm_1/kernel:0`, `layers/lstm/cell/vars/0`), Keras 1 names end in `_W`, `_U`, `_b` (with a gate
 * letter) or a normalisation role. Regexes only, no imports, so hovering ordinary code costs nothing; the core
 * decides for real (test/extension/hoverPrefilter.test.ts checks the superset on real names).
 */
const TOKEN = /[A-Za-z0-9_/:]/;
const KERAS1_END = /_(?:[WUb](?:_[a-z])?|gamma|beta|running_mean|running_std)$/;

export function mayNameWeight(line: string, column: number): boolean {
  if (column < 0 || column >= line.length || !TOKEN.test(line[column])) return false;
  let start = column;
  let end = column + 1;
  // A weight name is short; a megabyte-long token (minified JSON) is looked at near the cursor only.
  while (start > 0 && column - start < 2000 && TOKEN.test(line[start - 1])) start--;
  while (end < line.length && end - column < 2000 && TOKEN.test(line[end])) end++;
  const word = line.slice(start, end).replace(/^[/:]+|[/:]+$/g, '');
  if (word.includes('/')) return true;
  return KERAS1_END.test(word.replace(/:\d+$/, ''));
}
