/**
 * Cuts a fragmented MP4 byte stream into what a live view hands out: the init
 * segment (ftyp + moov) once, then one media fragment (moof + mdat, starting
 * at a keyframe) at a time. Top-level boxes only; nothing inside is parsed.
 */
export class Mp4Fragmenter {
  private buf: Buffer = Buffer.alloc(0);
  private init: Buffer[] = [];
  private fragment: Buffer[] = [];
  /** The init segment, once ftyp and moov have both arrived. */
  initSegment: Buffer | null = null;

  constructor(
    private readonly onInit: (init: Buffer) => void,
    private readonly onFragment: (fragment: Buffer) => void,
    /** A box bigger than this is not a camera's fragment: the stream is wrong. */
    private readonly maxBoxBytes = 64 * 1024 * 1024,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 8) return;
      let size = this.buf.readUInt32BE(0);
      let header = 8;
      if (size === 1) {
        if (this.buf.length < 16) return;
        size = Number(this.buf.readBigUInt64BE(8));
        header = 16;
      }
      const type = this.buf.toString('latin1', 4, 8);
      if (size < header || size > this.maxBoxBytes) throw new Error(`fragmented MP4: box "${type}" claims ${size} bytes; not a stream ffmpeg's mp4 muxer writes`);
      if (this.buf.length < size) return;
      const box = this.buf.subarray(0, size);
      this.buf = this.buf.subarray(size);
      this.box(type, Buffer.from(box));
    }
  }

  private box(type: string, box: Buffer): void {
    if (!this.initSegment) {
      if (type === 'moof') throw new Error('fragmented MP4: a fragment came before the moov box');
      this.init.push(box);
      if (type === 'moov') {
        this.initSegment = Buffer.concat(this.init);
        this.init = [];
        this.onInit(this.initSegment);
      }
      return;
    }
    // styp/sidx/prft/moof open a fragment; mdat closes it.
    this.fragment.push(box);
    if (type === 'mdat') {
      const f = Buffer.concat(this.fragment);
      this.fragment = [];
      this.onFragment(f);
    }
  }
}
