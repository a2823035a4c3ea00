import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where an alert's clip lives: `<clipsDir>/<yyyy-mm-dd>/<alert id>.mp4` (day folders make retention a directory delete). */
export function clipPath(clipsDir: string, alertId: string, firstAt: Date): string {
  if (!/^[0-9a-f-]{36}$/i.test(alertId)) throw new Error(`clip: "${alertId}" is not an alert id`);
  return join(clipsDir, firstAt.toISOString().slice(0, 10), `${alertId}.mp4`);
}

/** Deletes day folders older than `retainDays` (site file: alerts.clips.retain_days); returns the folders removed. */
export function pruneClips(clipsDir: string, retainDays: number, now = new Date()): string[] {
  const cutoff = new Date(now.getTime() - retainDays * 86_400_000).toISOString().slice(0, 10);
  let entries: string[];
  try {
    entries = readdirSync(clipsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(name) || name >= cutoff) continue;
    const p = join(clipsDir, name);
    if (!statSync(p).isDirectory()) continue;
    rmSync(p, { recursive: true, force: true });
    removed.push(p);
  }
  return removed;
}
