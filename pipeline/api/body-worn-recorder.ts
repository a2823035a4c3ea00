import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { appendAudit } from '../audit/index.js';
import type { CameraConfig, SiteConfig } from '../config/index.js';
import { getInspection, type Inspection } from '../dispatch/index.js';
import { buildLiveArgs } from '../live/index.js';
import type { Logger } from '../log/index.js';
import type { Store } from '../store/index.js';

/** Where the recordings go, under the data folder (served back through the inspection). */
export const BODY_WORN_DIR = join('clips', 'inspections');

/** A dropped link (a recorder on a mobile network) is tried again after this long, while the job is open. */
const RETRY_MS = 2000;
/** A completed job's recording is left to the result route this long before the sweep settles it. */
const RESULT_GRACE_MS = 60_000;
/** How long ffmpeg gets to close its file after SIGINT before it is killed (the file is fragmented MP4: playable either way). */
const STOP_GRACE_MS = 5000;

interface Recording {
  inspection: string;
  camera: CameraConfig;
  /** Relative paths of the parts written so far (a new part after each reconnect). */
  parts: string[];
  child: ChildProcess | null;
  retry: NodeJS.Timeout | null;
  stopping: boolean;
}

/**
 * Records an inspector's body-worn camera while their job is open: from the
 * acknowledgement to the result, the camera's H.264 copied (never decoded)
 * into fragmented MP4 under data/clips/inspections, one part per connection.
 * The parts are kept with the result as the inspection's evidence. Body-worn
 * cameras are never analysed; this is their only recording.
 */
export class BodyWornRecorder {
  private readonly recordings = new Map<string, Recording>();

  constructor(private readonly o: { site: SiteConfig | null; dataDir: string; logger: Logger; ffmpegPath?: string }) {}

  /** The enabled body-worn camera the inspector wears, if any. */
  cameraOf(inspector: string | null | undefined): CameraConfig | undefined {
    if (!inspector) return undefined;
    return this.o.site?.cameras.find((c) => c.kind === 'body_worn' && c.enabled && c.inspector === inspector);
  }

  isRecording(inspection: string): boolean {
    return this.recordings.has(inspection);
  }

  /** The inspections being recorded now. */
  recording(): string[] {
    return [...this.recordings.keys()];
  }

  /** Starts recording for an open job (no-op without a camera, or when already recording). */
  start(inspection: string, inspector: string | null | undefined): boolean {
    const camera = this.cameraOf(inspector);
    if (!camera || this.recordings.has(inspection)) return false;
    const rec: Recording = { inspection, camera, parts: [], child: null, retry: null, stopping: false };
    this.recordings.set(inspection, rec);
    this.spawnPart(rec);
    return true;
  }

  private spawnPart(rec: Recording): void {
    const rel = join(BODY_WORN_DIR, `${rec.inspection}-${Date.now()}.mp4`);
    const file = join(this.o.dataDir, rel);
    mkdirSync(join(this.o.dataDir, BODY_WORN_DIR), { recursive: true });
    const { args } = buildLiveArgs({ streams: rec.camera.streams });
    // The live view's arguments, written to a file instead of a pipe.
    args.splice(args.length - 1, 1, '-y', file);
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    rec.parts.push(rel);
    rec.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (err) => this.o.logger.warn({ camera: rec.camera.id, inspection: rec.inspection, err: err.message }, 'body-worn recording could not start'));
    child.on('close', (code, signal) => {
      if (rec.child === child) rec.child = null;
      if (rec.stopping) return;
      this.o.logger.warn({ camera: rec.camera.id, inspection: rec.inspection, code, signal, stderr: stderr.trim() }, 'body-worn recording stopped; trying again');
      rec.retry = setTimeout(() => {
        rec.retry = null;
        if (!rec.stopping) this.spawnPart(rec);
      }, RETRY_MS);
      rec.retry.unref();
    });
  }

  /** Stops the job's recording and returns the parts that hold video (relative to the data folder). */
  async stop(inspection: string): Promise<string[]> {
    const rec = this.recordings.get(inspection);
    if (!rec) return [];
    this.recordings.delete(inspection);
    rec.stopping = true;
    if (rec.retry) clearTimeout(rec.retry);
    const child = rec.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        child.once('close', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGINT');
      });
    }
    return rec.parts.filter((rel) => holdsVideo(join(this.o.dataDir, rel)));
  }

  async close(): Promise<void> {
    await Promise.all([...this.recordings.keys()].map((id) => this.stop(id)));
  }
}

/** A part holds video when a fragment (`moof`) follows its header; a connection that never got a picture leaves only the header. */
function holdsVideo(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(256 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).includes('moof');
  } finally {
    closeSync(fd);
  }
}

/**
 * Keep a job's body-worn recording with the inspection (details.body_worn_clips,
 * relative to the data folder) and say so in the audit trail.
 */
export async function keepBodyWornClips(store: Store, i: Inspection, clips: string[], camera: string): Promise<Inspection> {
  if (clips.length === 0) return i;
  await store.query(`UPDATE inspections SET details = details || jsonb_build_object('body_worn_clips', COALESCE(details->'body_worn_clips', '[]'::jsonb) || $2::jsonb) WHERE id = $1`, [i.id, JSON.stringify(clips)]);
  await appendAudit(store, { kind: 'inspection.evidence', actor: i.inspector ?? 'api', subject: i.id, payload: { inspection: i.id, camera, body_worn_clips: clips } });
  return (await getInspection(store, i.id)) ?? i;
}

/**
 * Jobs that closed without a result through this process (cancelled,
 * escalated, or completed through another one): their recording stops and
 * what was recorded is kept with the inspection. Returns the inspections settled.
 */
export async function settleClosedRecordings(store: Store, recorder: BodyWornRecorder): Promise<string[]> {
  const settled: string[] = [];
  for (const id of recorder.recording()) {
    const i = await getInspection(store, id);
    if (i && i.state === 'acknowledged') continue;
    // A result just recorded here: its route is keeping the recording (give it a minute).
    if (i && i.state === 'completed' && i.completed_at && Date.now() - new Date(i.completed_at).getTime() < RESULT_GRACE_MS) continue;
    const camera = recorder.cameraOf(i?.inspector)?.id ?? '';
    const clips = await recorder.stop(id);
    if (i) await keepBodyWornClips(store, i, clips, camera);
    settled.push(id);
  }
  return settled;
}
