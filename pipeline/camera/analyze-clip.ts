import type { Box, PortEvent } from '../events/types.js';
import { readVideoFrames } from '../video/index.js';
import { CameraAnalyser, type CameraAnalyserOptions } from './analyser.js';

export interface AnalyzeClipOptions extends CameraAnalyserOptions {
  /** Wall time the clip's first frame stands for (zone schedules are judged at it). Default: now. */
  start?: Date;
  ffmpegPath?: string;
  /** Analyse only the first this many seconds of the clip. */
  durationS?: number;
  /** Called for every analysed frame (progress, statistics). */
  onFrame?: (info: { t: number; gate: string; detectorRan: boolean; fullFrame: boolean; region: Box | null }) => void;
}

export interface ClipEvent {
  event: PortEvent;
  /** Seconds from the start of the clip. */
  t: number;
}

/**
 * One clip (file or URL) through the same motion → detect → track → zones path
 * as a live camera, frame by frame with nothing dropped, at the camera's
 * detect fps and size. Open events are ended when the clip ends.
 */
export async function* analyzeClip(source: string, o: AnalyzeClipOptions): AsyncGenerator<ClipEvent> {
  const analyser = new CameraAnalyser(o);
  const start = (o.start ?? new Date()).getTime();
  const { fps, width, height } = o.camera.detect;
  let last = 0;
  const at = (e: PortEvent): ClipEvent => ({ event: e, t: Math.round(((e.time.getTime() - start) / 1000) * 1000) / 1000 });
  for await (const f of readVideoFrames(source, {
    camera: o.camera.id,
    detectFps: fps,
    rgb: { width, height },
    gray: analyser.grid,
    ...(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {}),
    ...(o.durationS ? { maxFrames: Math.max(1, Math.ceil(o.durationS * fps)) } : {}),
  })) {
    last = start + f.t * 1000;
    const r = await analyser.analyse({ rgb: f.rgb!, gray: f.gray!, time: last, seq: f.seq });
    o.onFrame?.({ t: f.t, gate: r.gate, detectorRan: r.detection !== null, fullFrame: r.fullFrame, region: r.region });
    for (const e of r.events) yield at(e);
  }
  for (const e of await analyser.flush(last + 1000 / fps)) yield at(e);
}
