import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { describeLineIssues } from './vessel-facts.js';

/** A rejected line: `FILE:LINE field: reason` for each bad field. */
export interface LineRejection {
  file: string;
  line: number;
  problems: string[];
}

export function formatRejection(r: LineRejection): string {
  return r.problems.map((p) => `${r.file}:${r.line} ${p}`).join('\n');
}

/**
 * Read a JSON-lines file through a zod schema: each good line is handed to
 * `onRecord` with its line number, each bad one to `onReject` with every bad
 * field; blank lines are skipped. Nothing stops at a bad line.
 */
export async function readJsonLines<S extends z.ZodType>(
  file: string,
  schema: S,
  onRecord: (record: z.output<S>, line: number) => void | Promise<void>,
  onReject: (r: LineRejection) => void,
): Promise<{ accepted: number; rejected: number }> {
  const input = file === '-' ? process.stdin : createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let accepted = 0;
  let rejected = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      rejected++;
      onReject({ file, line: n, problems: [`(line): not JSON: ${(err as Error).message}`] });
      continue;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      rejected++;
      onReject({ file, line: n, problems: describeLineIssues(parsed.error, raw) });
      continue;
    }
    accepted++;
    await onRecord(parsed.data, n);
  }
  return { accepted, rejected };
}
