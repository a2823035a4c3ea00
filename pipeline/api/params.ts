import { z } from 'zod';

/**
 * The parameter schemas every route group shares. Each says in its message what
 * a good value looks like; the error handler prefixes the parameter's name.
 * Anything that reaches SQL is bound, and ids are held to the site file's id
 * pattern besides, so a quote or a semicolon never gets that far.
 */

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
export const idParam = z.string().regex(ID_PATTERN, 'an id is 1 to 64 letters, digits, "_", ".", ":" or "-", starting with a letter or digit');

export const uuidParam = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a UUID such as 3f2b6c1e-0a4d-4e8f-9b7a-2d1c5e6f7a8b');

/** A vessel's MMSI: nine digits (ships start with 2 to 7; base stations and aids with 0 or 9 are refused). */
export const mmsiParam = z.coerce
  .number({ error: 'an MMSI is a nine-digit number' })
  .int('an MMSI is a whole number')
  .min(200_000_000, "a ship's MMSI has 9 digits and starts with 2 to 7")
  .max(799_999_999, "a ship's MMSI has 9 digits and starts with 2 to 7");

/** ISO 8601 with a time zone (2026-12-06T05:00:00Z or +08:00): a time without one is ambiguous across the site's zone. */
export const isoTime = z.iso
  .datetime({ offset: true, error: 'an ISO 8601 time with a zone, such as 2026-12-06T05:00:00Z or 2026-12-06T13:00:00+08:00' })
  .transform((s) => new Date(s));

/**
 * Bucket widths, mapped to PostgreSQL intervals and bound as parameters. Whole
 * hours only: the continuous aggregates are hourly, so a narrower bucket would
 * have to come from the raw tables.
 */
export const BUCKETS = { '1h': '1 hour', '3h': '3 hours', '6h': '6 hours', '12h': '12 hours', '1d': '1 day', '7d': '7 days' } as const;
export type Bucket = keyof typeof BUCKETS;
export const BUCKET_MS: Record<Bucket, number> = { '1h': 3_600_000, '3h': 10_800_000, '6h': 21_600_000, '12h': 43_200_000, '1d': 86_400_000, '7d': 604_800_000 };
export const bucketParam = z.enum(Object.keys(BUCKETS) as [Bucket, ...Bucket[]], { error: `bucket is one of ${Object.keys(BUCKETS).join(', ')}` });

export const formatParam = z.enum(['json', 'csv'], { error: 'format is json or csv' }).default('json');

export const limitParam = (max: number, def: number) =>
  z.coerce.number({ error: 'limit is a number' }).int('limit is a whole number').min(1, 'limit is at least 1').max(max, `limit is at most ${max}`).default(def);

export const offsetParam = z.coerce.number({ error: 'offset is a number' }).int('offset is a whole number').min(0, 'offset cannot be negative').max(1_000_000, 'offset is at most 1000000').default(0);

/** A time range: from before to, and at most `maxDays` long. */
export const timeRange = <S extends z.ZodRawShape>(shape: S, maxDays = 400) =>
  z
    .strictObject({ from: isoTime, to: isoTime, ...shape })
    .superRefine((q, ctx) => {
      const from = (q as { from: unknown }).from;
      const to = (q as { to: unknown }).to;
      // A field that failed its own check is reported by it; compare only two real times.
      if (!(from instanceof Date) || !(to instanceof Date)) return;
      if (to.getTime() <= from.getTime()) ctx.addIssue({ code: 'custom', message: 'to must be after from', path: ['to'] });
      else if (to.getTime() - from.getTime() > maxDays * 86_400_000) ctx.addIssue({ code: 'custom', message: `the range is at most ${maxDays} days`, path: ['to'] });
    });
