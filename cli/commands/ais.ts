import { createReadStream, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { aisJsonLine, decodeAisReadable, REJECT_REASONS, type DecodeStats, type FeedRecord } from '../../pipeline/ais/index.js';
import { createLogger } from '../../pipeline/log/index.js';
import { CliError } from '../cli-error.js';

interface DecodeFlags {
  unscaled?: boolean;
  type24Parts?: boolean;
  nmea?: boolean;
  quiet?: boolean;
}

/** `portwatch ais ...`: AIS tools. More subcommands (replay, feeds) join this group later. */
export function registerAisCommands(program: Command): void {
  const ais = program.command('ais').description('AIS/NMEA feed tools');
  ais
    .command('decode')
    .description(
      'Decode AIS/NMEA lines to one JSON object per message (gpsd `gpsdecode -j` field names and scaling, plus tagblock_* fields); rejects are summarised on stderr',
    )
    .argument('[file]', 'input file, or - for stdin', '-')
    .option('-u, --unscaled', 'raw integer values, like gpsdecode -u')
    .option('--type24-parts', 'also print type 24 parts A/B that are not merged (gpsd daemon style)')
    .option('--nmea', 'also print the other NMEA sentences (GGA, RMC, VTG, HDT, ZDA, TTM, ALR) as JSON')
    .option('-q, --quiet', 'no reject summary on stderr')
    .action(async (file: string, flags: DecodeFlags) => {
      const fromStdin = file === '-';
      if (!fromStdin && !existsSync(file)) throw new CliError(`ais decode: no such file: ${file} (give a path, or - for stdin)`, 2);
      const logger = createLogger({ level: flags.quiet ? 'silent' : 'warn', name: 'ais-decode' });
      const out = process.stdout;
      let buffered = '';
      let waiting: Promise<void> | null = null;
      // Output is batched into 64 KB writes; a full pipe pauses decoding until it drains.
      const flush = (): void => {
        if (buffered.length === 0) return;
        const ok = out.write(buffered);
        buffered = '';
        if (!ok) waiting = new Promise((resolve) => out.once('drain', () => resolve()));
      };
      const input = fromStdin ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
      async function* paced(): AsyncGenerator<Buffer | string> {
        for await (const chunk of input as AsyncIterable<Buffer | string>) {
          yield chunk;
          flush();
          if (waiting !== null) {
            await waiting;
            waiting = null;
          }
        }
      }
      const stats = await decodeAisReadable(paced(), {
        scaled: !flags.unscaled,
        device: 'stdin',
        file: fromStdin ? 'stdin' : file,
        logger,
        emitType24Parts: flags.type24Parts === true,
        onRecord: (rec: FeedRecord) => {
          if (rec.kind === 'ais') buffered += aisJsonLine(rec) + '\n';
          else if (flags.nmea) buffered += JSON.stringify({ class: 'NMEA', line: rec.line, ...rec.sentence }) + '\n';
        },
      });
      flush();
      if (waiting !== null) await waiting;
      if (!flags.quiet) process.stderr.write(formatSummary(stats));
    });
}

/** The reject summary written to stderr: totals, then counts and first examples per reason. */
export function formatSummary(s: DecodeStats): string {
  const lines = [
    `ais decode: ${s.lines} lines, ${s.messages} AIS messages, ${s.nmea} other NMEA, ${s.rejected} rejected, ${s.skipped} blank/comment`,
  ];
  if (s.noChecksum > 0) lines.push(`  decoded with a cut or damaged checksum field (payload complete): ${s.noChecksum}`);
  const ignored = Object.entries(s.ignored);
  if (ignored.length > 0) lines.push(`  ignored sentences: ${ignored.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const reason of REJECT_REASONS) {
    const n = s.rejects[reason];
    if (n === 0) continue;
    lines.push(`  ${reason}: ${n}`);
    for (const ex of s.samples.filter((x) => x.reason === reason)) {
      lines.push(`    ${ex.file ?? ''}:${ex.line}${ex.detail ? ` (${ex.detail})` : ''}: ${ex.text}`);
    }
  }
  return lines.join('\n') + '\n';
}
