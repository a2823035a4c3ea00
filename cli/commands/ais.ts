import type { Command } from 'commander';
import { AIS_DECODE_OPTIONS, aisDecode, type AisDecodeFlags } from './ais-decode.js';

/** `portwatch ais ...`: AIS tools. More subcommands (replay, feeds) join this group later. */
export function registerAisCommands(program: Command): void {
  const ais = program.command('ais').description('AIS/NMEA feed tools');
  const decode = ais
    .command('decode')
    .description(
      'Decode AIS/NMEA lines to one JSON object per message (gpsd `gpsdecode -j` field names and scaling, plus tagblock_* fields); rejects are summarised on stderr',
    )
    .argument('[file]', 'input file, or - for stdin', '-');
  for (const o of AIS_DECODE_OPTIONS) decode.option(o.flags, o.description);
  decode.action((file: string, flags: AisDecodeFlags) => aisDecode(file, flags));
}
