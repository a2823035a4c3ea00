/**
 * H.264 access units: the unit live cameras' pictures travel in from
 * `H264Depacketizer` (RTP) to `StreamActivity` and `KeyframeDecoder`, and
 * `AccessUnitSplitter`, which cuts an Annex B byte stream with an access unit
 * delimiter (AUD, NAL type 9) before every picture (`ffmpeg -c copy -bsf:v
 * h264_metadata=aud=insert -f h264`: a recording, a pipe) into the same units,
 * no slice header parsed.
 *
 * Each unit carries what the on-demand decoder needs to decide cheaply:
 * whether it is a keyframe (an IDR slice, NAL type 5) and how many bytes its
 * slices take (NAL types 1 and 5; filler and SEI excluded, so a constant-
 * bitrate camera's padding does not look like motion).
 */

export interface AccessUnit {
  /** The unit's NAL units, start codes included, without its leading AUD. */
  data: Buffer;
  /** Contains an IDR slice: decodable on its own (with the SPS/PPS it carries). */
  key: boolean;
  /** Bytes of coded slices (NAL types 1 and 5). */
  sliceBytes: number;
  /** The RTP timestamp (90 kHz, 32-bit, wrapping) when the unit was depacketized from RTP (`H264Depacketizer`). */
  timestamp?: number;
}

/** The NAL units of an Annex B buffer, without their start codes (nor the zero of a 4-byte one after them). */
export function nalUnits(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) out.push(withoutTrailingZeros(data.subarray(start, i)));
      i += 3;
      start = i;
    } else i++;
  }
  if (start >= 0 && start < data.length) out.push(data.subarray(start));
  return out.filter((n) => n.length > 0);
}

/** A NAL unit ends in a non-zero byte (its stop bit): zeros after it belong to the next start code or are padding. */
function withoutTrailingZeros(nal: Uint8Array): Uint8Array {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  return nal.subarray(0, end);
}

/** NAL unit types (H.264 table 7-1) the pipeline looks at. */
export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;
/** The 4-byte Annex B start code. */
export const START_CODE = Buffer.from([0, 0, 0, 1]);

/** An AUD on its own (`primary_pic_type` 7: any slice type): ends the unit before it for ffmpeg's parser. */
export const ACCESS_UNIT_DELIMITER = Buffer.from([0, 0, 0, 1, NAL_AUD, 0xf0]);

export class AccessUnitSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the current unit's AUD starts in `buf`, or -1 before the first AUD. */
  private unitStart = -1;
  /** How far `buf` has been scanned for start codes. */
  private scanned = 0;
  /** Bytes thrown away before the first AUD (a stream joined mid-picture). */
  skippedBytes = 0;
  /** Units longer than `maxUnitBytes`, dropped (a stream without AUDs, or garbage). */
  oversized = 0;

  constructor(private readonly maxUnitBytes = 8 * 1024 * 1024) {}

  /** Feeds bytes; returns the units completed by them (a unit completes when the next AUD arrives). */
  push(chunk: Buffer): AccessUnit[] {
    // Always a copy: the caller may reuse its buffer (a read into one fixed Buffer).
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: AccessUnit[] = [];
    const b = this.buf;
    // A start code is 00 00 01; the NAL header byte follows. Stop 3 bytes short so it is always there.
    let i = Math.max(0, this.scanned);
    for (; i + 3 < b.length; i++) {
      if (b[i + 2]! > 1) {
        i += 2; // no start code can begin at i, i+1 or i+2 (fast path: most bytes are > 1)
        continue;
      }
      if (b[i] !== 0 || b[i + 1] !== 0 || b[i + 2] !== 1) continue;
      if ((b[i + 3]! & 0x1f) !== NAL_AUD) continue;
      const start = i > 0 && b[i - 1] === 0 ? i - 1 : i; // the 4-byte form 00 00 00 01
      if (this.unitStart >= 0) {
        const unit = this.toUnit(b.subarray(this.unitStart, start));
        if (unit) out.push(unit);
      } else {
        this.skippedBytes += start;
      }
      this.unitStart = start;
      i += 3;
    }
    this.scanned = i;
    // Keep only the unfinished unit.
    if (this.unitStart > 0) {
      this.buf = Buffer.from(b.subarray(this.unitStart));
      this.scanned -= this.unitStart;
      this.unitStart = 0;
    } else if (this.unitStart < 0 && b.length > 4) {
      // Keep 4 bytes: the 4-byte start code 00 00 00 01 of an AUD may be cut after its last byte.
      this.skippedBytes += b.length - 4;
      this.buf = Buffer.from(b.subarray(b.length - 4));
      this.scanned = 0;
    }
    if (this.buf.length > this.maxUnitBytes) {
      this.oversized++;
      this.buf = Buffer.alloc(0);
      this.unitStart = -1;
      this.scanned = 0;
    }
    return out;
  }

  /** Forgets a partial unit (the stream restarted). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.unitStart = -1;
    this.scanned = 0;
  }

  private toUnit(au: Buffer): AccessUnit | null {
    let key = false;
    let sliceBytes = 0;
    let firstAfterAud = -1;
    let prevNal = -1;
    let prevType = -1;
    const close = (end: number) => {
      if (prevType === NAL_SLICE || prevType === NAL_IDR) sliceBytes += end - prevNal;
    };
    for (let i = 0; i + 3 < au.length; i++) {
      if (au[i + 2]! > 1) {
        i += 2;
        continue;
      }
      if (au[i] !== 0 || au[i + 1] !== 0 || au[i + 2] !== 1) continue;
      const type = au[i + 3]! & 0x1f;
      const start = i > 0 && au[i - 1] === 0 ? i - 1 : i;
      close(start);
      if (prevType === NAL_AUD && firstAfterAud < 0) firstAfterAud = start;
      if (type === NAL_IDR) key = true;
      prevNal = i + 3;
      prevType = type;
      i += 3;
    }
    close(au.length);
    if (firstAfterAud < 0) return null; // an AUD alone: nothing to decode
    return { data: Buffer.from(au.subarray(firstAfterAud)), key, sliceBytes };
  }
}
