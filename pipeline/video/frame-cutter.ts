/**
 * Cuts a raw video byte stream into frames of exactly `frameBytes`. A frame
 * that lies wholly inside one chunk is returned as a view of that chunk (no
 * copy); a frame spanning chunks is assembled with one copy into its own buffer.
 */
export class FrameCutter {
  private partial: Buffer | null = null;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  }

  /** Bytes held towards the next frame. */
  get pending(): number {
    return this.filled;
  }

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let off = 0;
    const n = this.frameBytes;
    if (this.partial) {
      const take = Math.min(n - this.filled, chunk.length);
      chunk.copy(this.partial, this.filled, 0, take);
      this.filled += take;
      off = take;
      if (this.filled < n) return frames;
      frames.push(this.partial);
      this.partial = null;
      this.filled = 0;
    }
    while (chunk.length - off >= n) {
      frames.push(chunk.subarray(off, off + n));
      off += n;
    }
    if (off < chunk.length) {
      this.partial = Buffer.allocUnsafe(n);
      chunk.copy(this.partial, 0, off);
      this.filled = chunk.length - off;
    }
    return frames;
  }

  /** Forget a partial frame (after ffmpeg restarts, its bytes belong to nothing). */
  reset(): void {
    this.partial = null;
    this.filled = 0;
  }
}
