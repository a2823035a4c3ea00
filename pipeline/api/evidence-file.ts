import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import type { FastifyReply } from 'fastify';
import { notFound } from './errors.js';

const TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', mp4: 'video/mp4' };

/**
 * Sends a stored evidence file. The path comes from the database (a snapshot,
 * clip or photo recorded by the pipeline), never from the request; it must
 * still resolve inside `root`, so a damaged row cannot point the server at
 * /etc/passwd.
 */
export async function sendEvidenceFile(reply: FastifyReply, root: string, stored: string | null | undefined, what: string): Promise<FastifyReply> {
  if (!stored) throw notFound(what);
  const base = resolve(root);
  const file = isAbsolute(stored) ? resolve(stored) : resolve(base, stored);
  if (!file.startsWith(base + sep)) throw notFound(what);
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  const type = TYPES[ext];
  if (!type) throw notFound(what);
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
  } catch {
    throw notFound(`${what} (the file is gone: retention may have removed it)`);
  }
  reply.header('content-type', type).header('content-length', size).header('cache-control', 'private, max-age=3600').header('x-content-type-options', 'nosniff');
  return reply.send(createReadStream(file) as never);
}
