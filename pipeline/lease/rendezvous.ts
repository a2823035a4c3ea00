import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: every worker scores every camera
 * with the same hash, and a camera "prefers" the live worker with the highest
 * score. All workers agree on this without talking to each other, and when a
 * worker joins or leaves only the cameras it wins or held change preference.
 * The lease manager uses it as an ordering only (which free camera to take
 * first, which held camera to give up first); the fair-share cap decides how many.
 */
export function rendezvousScore(worker: string, camera: string): number {
  const d = createHash('sha1').update(worker).update('\u0000').update(camera).digest();
  // 48 bits: exact in a double, and ties are practically impossible.
  return d.readUIntBE(0, 6);
}

/**
 * For one worker: how strongly it prefers each camera, given the live workers.
 * `rank` 0 means this worker is the camera's rendezvous winner; higher ranks
 * mean more live workers come before it.
 */
export interface CameraPreference {
  camera: string;
  rank: number;
  score: number;
}

export function preferences(self: string, liveWorkers: readonly string[], cameras: readonly string[]): Map<string, CameraPreference> {
  const others = liveWorkers.filter((w) => w !== self);
  const out = new Map<string, CameraPreference>();
  for (const camera of cameras) {
    const score = rendezvousScore(self, camera);
    let rank = 0;
    for (const w of others) {
      const s = rendezvousScore(w, camera);
      // Ties broken by id so every worker reaches the same verdict.
      if (s > score || (s === score && w < self)) rank++;
    }
    out.set(camera, { camera, rank, score });
  }
  return out;
}

/** Most wanted first: cameras this worker wins, then by rank, then by score. */
export function byPreference(a: CameraPreference, b: CameraPreference): number {
  return a.rank - b.rank || b.score - a.score || (a.camera < b.camera ? -1 : a.camera > b.camera ? 1 : 0);
}
