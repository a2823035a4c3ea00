/**
 * A benchmark's numeric option, `--name N` on its command line: the number
 * when it is one within range, else the default (the benchmarks are run with
 * few options, and a typo falls back to the documented scale rather than a
 * zero-sized run).
 */
export function numberOption(name: string, fallback: number, o: { allowZero?: boolean } = {}): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && (v > 0 || (o.allowZero === true && v === 0)) ? v : fallback;
}
