/**
 * What the benchmarks share: deterministic uniform data, one measured call (wall and this process's CPU time), medians
 * of contenders run in alternation, and the largest difference between two outputs. Not a test.
 */

/** n values uniform in [-scale, scale) from `rand` (a seeded generator: the same data in every run). */
export function uniform(n: number, scale: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

/** Wall time and this process's CPU time (user + system, all threads) of one measured call, in ms. */
export interface Sample {
  wall: number;
  cpu: number;
}

export async function sample(run: () => unknown | Promise<unknown>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/**
 * Medians (wall, CPU) of each contender, measured in alternation (A, B, A, B, ...) after one warm-up call each, so
 * that load from other processes on a shared machine hits every side alike. The number of rounds adapts to the
 * slowest contender: 3 over 2 s, 5 over 0.3 s, 9 over 40 ms, else `most`.
 */
export async function alternate(contenders: (() => unknown | Promise<unknown>)[], most = 25): Promise<Sample[]> {
  const first: number[] = [];
  for (const run of contenders) first.push((await sample(run)).wall);
  const slowest = Math.max(...first);
  const rounds = slowest > 2000 ? 3 : slowest > 300 ? 5 : slowest > 40 ? 9 : most;
  const samples = contenders.map(() => [] as Sample[]);
  for (let i = 0; i < rounds; i++) {
    for (let c = 0; c < contenders.length; c++) samples[c].push(await sample(contenders[c]));
  }
  return samples.map((ss) => ({ wall: median(ss.map((x) => x.wall)), cpu: median(ss.map((x) => x.cpu)) }));
}

/** Largest |a[i] − b[i]|; Infinity when the lengths differ or a difference is NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
