/**
 * The one line a benchmark prints per headline figure, so `npm run bench`
 * (scripts/bench/run-all.ts) can put every benchmark into one table:
 *
 *   BENCH {"name":"store writer vs raw COPY, 2 connections","ours":28100,"peer":27000,"unit":"rows/s","better":"higher","ratio":1.04,"goal":"≥ 0.9","met":true}
 *
 * Every benchmark in scripts/bench/ prints its figures for people as it likes
 * and, for each comparison it makes, calls
 *
 *   import { reportBench } from './report.js';
 *   reportBench({ name: 'detector nanodet float vs TF.js float', ours: 41.2, peer: 9.8, unit: 'frames/s per core', better: 'higher', goal: 2, note: '…' });
 *
 * - `name`: what is compared, with the peer and the precision/conditions (unique within the benchmark).
 * - `ours`, `peer`: the two figures from the same run, in `unit`. `peer` null when there is none (then no ratio).
 * - `better`: 'higher' (throughput) or 'lower' (cost, latency). The ratio is always "times better than
 *   the peer": ours/peer when higher is better, peer/ours when lower is better.
 * - `goal`: the ratio to reach (a number: met when ratio ≥ goal), or for a figure without a peer an
 *   absolute bound on `ours` as text with a number ('p99 < 1000'); omit when there is none.
 * - `inProcess`: true for an in-process figure (never a headline; whole processes are).
 * The line goes to stdout; nothing else in it is parsed.
 */

export interface BenchResult {
  name: string;
  ours: number;
  peer: number | null;
  unit: string;
  better: 'higher' | 'lower';
  ratio: number | null;
  goal: string | null;
  met: boolean | null;
  note?: string;
  inProcess?: boolean;
}

export interface BenchInput {
  name: string;
  ours: number;
  peer?: number | null;
  unit: string;
  better?: 'higher' | 'lower';
  /** A ratio to reach (number), or an absolute bound on `ours` ('< 1000', '≥ 50000'). */
  goal?: number | string;
  note?: string;
  inProcess?: boolean;
}

export const BENCH_PREFIX = 'BENCH ';

/** Times better than the peer (> 1: ours is better), or null without a peer. */
export function benchRatio(ours: number, peer: number | null | undefined, better: 'higher' | 'lower'): number | null {
  if (peer === null || peer === undefined || !Number.isFinite(peer) || peer <= 0 || !Number.isFinite(ours) || ours <= 0) return null;
  return better === 'higher' ? ours / peer : peer / ours;
}

function evaluateGoal(goal: number | string | undefined, ratio: number | null, ours: number): boolean | null {
  if (goal === undefined) return null;
  if (typeof goal === 'number') return ratio === null ? null : ratio >= goal;
  const m = /(<=|≤|<|>=|≥|>)\s*([0-9.]+)/.exec(goal);
  if (!m) return null;
  const bound = Number(m[2]);
  switch (m[1]) {
    case '<':
      return ours < bound;
    case '<=':
    case '≤':
      return ours <= bound;
    case '>':
      return ours > bound;
    default:
      return ours >= bound;
  }
}

export function benchResult(input: BenchInput): BenchResult {
  const better = input.better ?? 'higher';
  const peer = input.peer ?? null;
  const ratio = benchRatio(input.ours, peer, better);
  const result: BenchResult = {
    name: input.name,
    ours: input.ours,
    peer,
    unit: input.unit,
    better,
    ratio: ratio === null ? null : Number(ratio.toFixed(3)),
    goal: input.goal === undefined ? null : typeof input.goal === 'number' ? `ratio ≥ ${input.goal}` : input.goal,
    met: evaluateGoal(input.goal, ratio, input.ours),
  };
  if (input.note) result.note = input.note;
  if (input.inProcess) result.inProcess = true;
  return result;
}

/** Prints the machine-readable line for one comparison (and returns what it printed). */
export function reportBench(input: BenchInput): BenchResult {
  const result = benchResult(input);
  process.stdout.write(`${BENCH_PREFIX}${JSON.stringify(result)}\n`);
  return result;
}

/** The BENCH lines of a benchmark's output; a malformed one is returned as an error, not dropped silently. */
export function parseBenchLines(text: string): { results: BenchResult[]; errors: string[] } {
  const results: BenchResult[] = [];
  const errors: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.startsWith(BENCH_PREFIX)) return;
    try {
      const r = JSON.parse(line.slice(BENCH_PREFIX.length)) as BenchResult;
      if (typeof r.name !== 'string' || typeof r.ours !== 'number' || typeof r.unit !== 'string') throw new Error('needs name, ours (a number) and unit');
      results.push(r);
    } catch (err) {
      errors.push(`line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return { results, errors };
}
