import type { DetectRequest } from '../detect/detector.js';
import type { Detection } from '../detect/types.js';
import type { CameraDetector } from './types.js';

/**
 * Several detector sessions behind one `detect`: each request goes to the
 * session with the fewest requests in hand. One onnxruntime session runs one
 * inference at a time (about 80 ms of one core for NanoDet here), so one
 * session caps a process at about 12 busy cameras at 1 frame/s; on a machine
 * with C cores, C single-threaded sessions use them all (docs/detect.md: more
 * sessions with one thread each scale better than one session with C threads).
 */
export class DetectorPool implements CameraDetector {
  private readonly inHand: number[];

  constructor(private readonly members: readonly CameraDetector[]) {
    if (members.length === 0) throw new RangeError('DetectorPool needs at least one detector');
    this.inHand = members.map(() => 0);
  }

  /** Members run one model, so the first speaks for all. */
  get takesAnySize(): boolean {
    return this.members[0]!.takesAnySize ?? false;
  }

  get size(): number {
    return this.members.length;
  }

  async detect(request: DetectRequest): Promise<Detection[]> {
    let best = 0;
    for (let i = 1; i < this.inHand.length; i++) if (this.inHand[i]! < this.inHand[best]!) best = i;
    this.inHand[best]!++;
    try {
      return await this.members[best]!.detect(request);
    } finally {
      this.inHand[best]!--;
    }
  }
}
