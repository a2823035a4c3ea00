/** A piece of a top-level MP4 box as it arrived: a view into the input chunk, never a copy (except a header split across chunks). */
export interface Mp4Piece {
  bytes: Buffer;
  /** The box this piece belongs to (ftyp, moov, moof, mdat…). */
  box: string;
  /** The piece begins the box (it holds its header). */
  start: boolean;
  /** The piece ends the box. */
  end: boolean;
}

/**
 * Finds the top-level box boundaries in a fragmented MP4 byte stream so a live
 * view can relay the bytes as they come (no waiting for a whole fragment, no
 * copying of video data) and still know where the init segment ends and each
 * fragment (moof + mdat, starting at a keyframe) begins. Nothing inside a box is parsed.
 */
export class Mp4BoxScanner {
  private head: Buffer = Buffer.alloc(0);
  private box = '';
  private remaining = 0;

  constructor(
    private readonly onPiece: (piece: Mp4Piece) => void,
    /** A box bigger than this is not a camera's fragment: the stream is wrong. */
    private readonly maxBoxBytes = 256 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - off);
        this.remaining -= n;
        this.onPiece({ bytes: chunk.subarray(off, off + n), box: this.box, start: false, end: this.remaining === 0 });
        off += n;
        continue;
      }
      // At a box boundary: gather its header (8 bytes, 16 with a 64-bit size).
      const want = this.head.length >= 8 && this.head.readUInt32BE(0) === 1 ? 16 : 8;
      const take = Math.min(want - this.head.length, chunk.length - off);
      this.head = Buffer.concat([this.head, chunk.subarray(off, off + take)]);
      off += take;
      if (this.head.length < want) continue;
      let size = this.head.readUInt32BE(0);
      if (size === 1 && want === 8) continue; // read the 64-bit size next
      if (size === 1) size = Number(this.head.readBigUInt64BE(8));
      const type = this.head.toString('latin1', 4, 8);
      if (size < want || size > this.maxBoxBytes) throw new Error(`fragmented MP4: box "${type}" claims ${size} bytes; not a stream ffmpeg's mp4 muxer writes`);
      this.box = type;
      this.remaining = size - want;
      const header = this.head;
      this.head = Buffer.alloc(0);
      this.onPiece({ bytes: header, box: type, start: true, end: this.remaining === 0 });
    }
  }
}
