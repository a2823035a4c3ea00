import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a photo's first bytes must be; the client's content type is not trusted. */
const SIGNATURES: Array<{ ext: string; type: string; test: (b: Buffer) => boolean }> = [
  { ext: 'jpg', type: 'image/jpeg', test: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { ext: 'png', type: 'image/png', test: (b) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { ext: 'webp', type: 'image/webp', test: (b) => b.length > 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP' },
];

export const PHOTO_TYPES = SIGNATURES.map((s) => s.type);

/** The photo's kind from its bytes, or null when it is none of JPEG, PNG, WebP. */
export function photoKind(bytes: Buffer): { ext: string; type: string } | null {
  const s = SIGNATURES.find((x) => x.test(bytes));
  return s ? { ext: s.ext, type: s.type } : null;
}

/**
 * Stores a photo by the SHA-256 of its bytes under `<dataDir>/photos/ab/<hash>.<ext>`
 * and returns that path relative to dataDir: the same photo uploaded twice is one
 * file, and a name can never come from the client.
 */
export async function storePhoto(dataDir: string, bytes: Buffer, ext: string): Promise<string> {
  const hash = createHash('sha256').update(bytes).digest('hex');
  const rel = join('photos', hash.slice(0, 2), `${hash}.${ext}`);
  const file = join(dataDir, rel);
  try {
    await stat(file);
    return rel;
  } catch {
    /* not there yet */
  }
  await mkdir(join(dataDir, 'photos', hash.slice(0, 2)), { recursive: true });
  // Write then rename: a reader never sees half a photo.
  const tmp = `${file}.${randomBytes(4).toString('hex')}.part`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
  return rel;
}
