import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { checkSeed, runTargetDraw, verifyDraw, type TargetCandidate } from '../../pipeline/dispatch/draw.js';
import { DEFAULT_RATES, parseRates, readDrawRecord, readInspectorCandidates, readTargetCandidates, targetCandidateSchema } from '../../pipeline/dispatch/draw-files.js';
import { CliError } from '../cli-error.js';

const RATES_TEXT = Object.entries(DEFAULT_RATES).map(([k, v]) => `${k}=${v}`).join(',');

export function registerDrawCommands(program: Command): void {
  const draw = program.command('draw').description('the verifiable "what to inspect" draw: run one, or check a published one');

  draw
    .command('run')
    .description('draw targets from a candidate list under a seed; prints the published record (candidates_sha256, seed_sha256, seed, rates, selected)')
    .requiredOption('--candidates <file>', 'JSON lines {"id", "profile"} (more fields allowed; they are part of the hashed list)')
    .requiredOption('--seed <hex>', 'the seed committed to beforehand, 16 to 64 bytes in hex')
    .option('--rates <list>', `sampling rate per risk profile (default ${RATES_TEXT})`, RATES_TEXT)
    .addHelpText('after', '\nA bad candidate line stops the draw (exit 2, every bad line named): a draw is never published over a list it did not fully read.')
    .action(async (opts: { candidates: string; seed: string; rates: string }) => {
      const seedProblem = checkSeed(opts.seed);
      if (seedProblem) throw new CliError(`--seed: ${seedProblem}`, 2);
      let rates;
      try {
        rates = parseRates(opts.rates);
      } catch (err) {
        throw new CliError(`--${(err as Error).message}`, 2);
      }
      if (!existsSync(opts.candidates)) throw new CliError(`--candidates ${opts.candidates}: no such file`, 2);
      const { candidates, problems } = await readTargetCandidates(opts.candidates, rates);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(p + '\n');
        throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${opts.candidates}: no draw was made`, 2);
      }
      process.stdout.write(JSON.stringify(runTargetDraw({ seed: opts.seed, candidates, rates }), null, 2) + '\n');
    });

  draw
    .command('verify <record>')
    .description('recompute a published draw: exit 0 when genuine, 1 naming what does not match')
    .option('--candidates <file>', 'the candidate list the draw was made over (inspector draws, and target draws from public export, carry their own)')
    .action(async (recordFile: string, opts: { candidates?: string }) => {
      const read = readDrawRecord(recordFile);
      if ('problems' in read) {
        for (const p of read.problems) process.stderr.write(p + '\n');
        throw new CliError(`${recordFile} is not a draw record`, 2);
      }
      const { record } = read;
      let list;
      if (opts.candidates) {
        if (!existsSync(opts.candidates)) throw new CliError(`--candidates ${opts.candidates}: no such file`, 2);
        const r = record.kind === 'target' ? await readTargetCandidates(opts.candidates) : await readInspectorCandidates(opts.candidates);
        if (r.problems.length > 0) {
          for (const p of r.problems) process.stderr.write(p + '\n');
          throw new CliError(`${opts.candidates}: ${r.problems.length} bad line(s); cannot verify against it`, 2);
        }
        list = r.candidates;
      } else if (record.kind === 'target') {
        // A record from `public export` carries the list it was drawn over.
        const carried = (record as { candidate_list?: unknown }).candidate_list;
        const parsed = Array.isArray(carried) ? carried.map((c) => targetCandidateSchema.safeParse(c)) : null;
        if (!parsed || parsed.some((p) => !p.success)) throw new CliError('a target draw is verified against its candidate list: add --candidates FILE.jsonl', 2);
        list = parsed.map((p) => p.data!) as TargetCandidate[];
      }
      const v = verifyDraw(record, list);
      if (v.ok) {
        process.stdout.write(`genuine: ${record.kind} draw over ${Array.isArray(record.candidates) ? record.candidates.length : record.candidates} candidates, ${record.selected.length} selected; the seed matches its commitment and selects exactly these\n`);
        return;
      }
      for (const p of v.problems) process.stdout.write(`does not match: ${p}\n`);
      throw new CliError(`the draw record ${recordFile} does not match (${v.problems.length} problem${v.problems.length === 1 ? '' : 's'})`, 1);
    });
}
