import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  BERTH_ACTIVITY_COLUMNS,
  BUCKETS,
  berthActivityChunks,
  berthActivityCsvValues,
  csvStream,
  type Bucket,
} from '../../pipeline/api/index.js';
import { loadSiteConfig } from '../../pipeline/config/index.js';
import { DEFAULT_DATA_DIR } from '../../pipeline/store/index.js';
import { CliError } from '../cli-error.js';
import { withMigratedStore } from './db.js';

const iso = z.iso.datetime({ offset: true });

/** The analysts' queries from the command line: the same implementation as the API's, the same answer. */
export function registerQueryCommands(program: Command): void {
  const query = program.command('query').description('analyst queries on the time series (the same answers as the API)');
  query
    .command('berth-activity')
    .description("a berth's occupancy, arrivals, departures, dwell, detections by class and alerts per bucket (as GET /api/berths/{id}/activity)")
    .requiredOption('--berth <id>', 'berth id (site file)')
    .requiredOption('--from <iso>', 'start, ISO 8601 with a zone (2026-12-01T00:00:00Z)')
    .requiredOption('--to <iso>', 'end (exclusive)')
    .option('--bucket <width>', Object.keys(BUCKETS).join(' | '), '1h')
    .option('--format <format>', 'csv or json', 'json')
    .option('--site <file>', 'site file: the cameras of the berth (or PORTWATCH_SITE)')
    .option('--data-dir <dir>', `embedded database directory when DATABASE_URL is unset (default ${DEFAULT_DATA_DIR})`)
    .action(async (o: { berth: string; from: string; to: string; bucket: string; format: string; site?: string; dataDir?: string }) => {
      if (!iso.safeParse(o.from).success) throw new CliError('--from: an ISO 8601 time with a zone, such as 2026-12-06T05:00:00Z', 2);
      if (!iso.safeParse(o.to).success) throw new CliError('--to: an ISO 8601 time with a zone, such as 2026-12-06T05:00:00Z', 2);
      const from = new Date(o.from);
      const to = new Date(o.to);
      if (to.getTime() <= from.getTime()) throw new CliError('--to must be after --from', 2);
      if (!(o.bucket in BUCKETS)) throw new CliError(`--bucket is one of ${Object.keys(BUCKETS).join(', ')}`, 2);
      if (o.format !== 'csv' && o.format !== 'json') throw new CliError('--format is csv or json', 2);
      const siteFile = o.site ?? process.env.PORTWATCH_SITE;
      let cameras: string[] = [];
      if (siteFile) {
        let site;
        try {
          site = loadSiteConfig(siteFile, { env: process.env, allow_missing_env: true });
        } catch (err) {
          throw new CliError((err as Error).message, 2);
        }
        if (!site.berths.some((b) => b.id === o.berth)) throw new CliError(`--berth: no berth "${o.berth}" in ${siteFile}`, 2);
        cameras = site.cameras.filter((c) => c.berth === o.berth).map((c) => c.id);
      }
      await withMigratedStore(o, async (store) => {
        const read = <T>(fn: (db: typeof store) => Promise<T>) => fn(store);
        const chunks = berthActivityChunks(read as never, store.capabilities, { berth: o.berth, from, to, bucket: o.bucket as Bucket, cameras });
        if (o.format === 'csv') {
          await pipeline(csvStream(BERTH_ACTIVITY_COLUMNS, chunks, berthActivityCsvValues), process.stdout, { end: false });
          return;
        }
        // The API's JSON shape, streamed row by row.
        async function* json() {
          yield `{"berth":${JSON.stringify(o.berth)},"bucket":${JSON.stringify(o.bucket)},"rows":[`;
          let first = true;
          for await (const rows of chunks) {
            for (const r of rows) {
              yield `${first ? '' : ','}${JSON.stringify(r)}`;
              first = false;
            }
          }
          yield ']}\n';
        }
        await pipeline(Readable.from(json()), process.stdout, { end: false });
      });
    });
}
