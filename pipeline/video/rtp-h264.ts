/**
 * H.264 over RTP (RFC 6184, non-interleaved mode) back into access units, one
 * per picture, for the Node RTSP client: it hands over each camera's RTP
 * packets (header included) and gets the same `AccessUnit`s that
 * `AccessUnitSplitter` cuts from ffmpeg's Annex B output, so `StreamActivity`
 * and `KeyframeDecoder` take them unchanged.
 *
 * What it accepts: single NAL unit packets (types 1–23), STAP-A (24) and FU-A
 * (28). STAP-B, MTAP16/24 and FU-B (25–27, 29) belong to the interleaved mode
 * that cameras do not use: counted as `unsupported`, and the unit they were
 * part of is dropped (its data is missing). Types 30/31 (reserved, used by SVC)
 * are counted and ignored, as RFC 6184 §5.2 asks of a receiver.
 *
 * Where a unit ends: at the marker bit, or when the RTP timestamp changes
 * (cameras that never set the marker; the unit then comes out when the next
 * picture's first packet arrives, or from `flush()`).
 *
 * Loss (sequence numbers, 16-bit, wrapping): a gap drops the unit in progress
 * (`damaged`). The unit the packet after a gap opens is kept only if its first
 * slice starts the picture (first_mb_in_slice 0, the first bit after the NAL
 * header): otherwise its head was lost too. So a lost single-packet P-frame
 * costs that one picture, not the next one as well; a missing SPS/PPS packet
 * before an IDR costs nothing, as the last ones seen are put in front.
 * Duplicates and packets up to 100 behind are ignored (`outOfSequence`); a jump
 * of 3000 or more either way is taken for a restarted sender only when the
 * packet after it follows on (RFC 3550 A.1's probation), so one stray packet
 * cannot derail the stream.
 *
 * Each unit's data is collected as pieces (start codes, copies of the payload
 * pieces) and concatenated once when it completes; nothing loops over payload
 * bytes. Packets are views valid only during `push`: every byte kept is copied.
 */
import { NAL_AUD, NAL_IDR, NAL_PPS, NAL_SLICE, NAL_SPS, START_CODE, type AccessUnit } from './annexb.js';

export interface H264DepacketizerOptions {
  /** SPS/PPS from the SDP's sprop-parameter-sets (raw NAL units, no start codes); used until the stream sends its own. */
  parameterSets?: Buffer[];
  /** Payload type to accept (others counted and ignored); default any. */
  payloadType?: number;
  /** A unit larger than this is dropped and counted. Default 4 MiB. */
  maxUnitBytes?: number;
}

export interface H264DepacketizerStats {
  /** Every packet pushed. */
  packets: number;
  /** Access units emitted. */
  units: number;
  /** …of them keyframes (holding an IDR slice). */
  keyframes: number;
  /** Missing sequence numbers. */
  lost: number;
  /** Units dropped because a packet of theirs was lost, malformed or unsupported, or a fragment was broken. */
  damaged: number;
  /** Packets that are not valid RTP/H.264 (bad RTP header, empty or inconsistent payload). */
  malformed: number;
  /** STAP-B, MTAP, FU-B, reserved NAL types 30/31, other payload types. */
  unsupported: number;
  /** Units dropped for exceeding `maxUnitBytes`. */
  oversized: number;
  /** Packets ignored for their sequence number: duplicates, late (reordered) ones, an unconfirmed jump. */
  outOfSequence: number;
}

const STAP_A = 24;
const FU_A = 28;

/** Gaps below this many packets are loss; larger forward jumps need confirming (RFC 3550 A.1). */
const MAX_DROPOUT = 3000;
/** Packets up to this many behind the last one are late or duplicated, and ignored. */
const MAX_MISORDER = 100;
const DEFAULT_MAX_UNIT_BYTES = 4 * 1024 * 1024;

/** One-byte buffers for reconstructed FU-A NAL headers (concat copies them, so sharing is safe). */
const BYTE: readonly Buffer[] = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));

const isSlice = (type: number) => type === NAL_SLICE || type === NAL_IDR;

/** An exact-size copy outside Node's shared pool: kept for long (SPS/PPS), it must not pin an 8 KiB slab. */
function keep(nal: Buffer): Buffer {
  const b = Buffer.allocUnsafeSlow(nal.length);
  nal.copy(b);
  return b;
}

type DropReason = 'damaged' | 'oversized' | null;

export class H264Depacketizer {
  private readonly payloadType: number | undefined;
  private readonly maxUnitBytes: number;
  private readonly counts: H264DepacketizerStats = {
    packets: 0,
    units: 0,
    keyframes: 0,
    lost: 0,
    damaged: 0,
    malformed: 0,
    unsupported: 0,
    oversized: 0,
    outOfSequence: 0,
  };
  /** The latest SPS and PPS (the stream's own once it sent them, else the options'). */
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;

  // Sequence numbers.
  private lastSeq = -1;
  /** After a jump: the sequence number that would confirm it, else -1. */
  private probationSeq = -1;

  // The unit in progress.
  private open = false;
  private ts = 0;
  private parts: Buffer[] = [];
  private bytes = 0;
  private slices = 0;
  private sliceBytes = 0;
  private idr = false;
  private ownSps = false;
  private ownPps = false;
  private drop: DropReason = null;
  /** Opened right after a gap: its first slice must start the picture. */
  private headCheck = false;

  // The FU-A in progress (type -1: none).
  private fuType = -1;
  private fuParts: Buffer[] = [];
  private fuBytes = 0;
  /** Collect the fragments (false for an AUD, or while the unit is being dropped, unless SPS/PPS). */
  private fuKeep = false;

  constructor(o: H264DepacketizerOptions = {}) {
    this.payloadType = o.payloadType;
    this.maxUnitBytes = o.maxUnitBytes ?? DEFAULT_MAX_UNIT_BYTES;
    for (const ps of o.parameterSets ?? []) {
      if (ps.length === 0) continue;
      const type = ps[0]! & 0x1f;
      if (type === NAL_SPS) this.sps = keep(ps);
      else if (type === NAL_PPS) this.pps = keep(ps);
    }
  }

  stats(): H264DepacketizerStats {
    return { ...this.counts };
  }

  /** One RTP packet in; the access units it completed out (usually 0 or 1). Never throws on bad input: counts it. */
  push(packet: Buffer): AccessUnit[] {
    this.counts.packets++;
    const out: AccessUnit[] = [];
    const len = packet.length;
    // RTP header (RFC 3550 §5.1).
    if (len < 12) return this.malformedPacket(out);
    const b0 = packet[0]!;
    if (b0 >> 6 !== 2) return this.malformedPacket(out);
    let off = 12 + 4 * (b0 & 0x0f);
    if (off > len) return this.malformedPacket(out);
    if (b0 & 0x10) {
      if (off + 4 > len) return this.malformedPacket(out);
      off += 4 + 4 * packet.readUInt16BE(off + 2);
      if (off > len) return this.malformedPacket(out);
    }
    let end = len;
    if (b0 & 0x20) {
      const pad = packet[len - 1]!;
      if (pad === 0 || len - pad < off) return this.malformedPacket(out);
      end -= pad;
    }
    const b1 = packet[1]!;
    if (this.payloadType !== undefined && (b1 & 0x7f) !== this.payloadType) {
      this.counts.unsupported++;
      return out;
    }

    // Sequence number.
    const seq = packet.readUInt16BE(2);
    let gap = false;
    if (this.lastSeq >= 0) {
      const missing = (seq - this.lastSeq - 1) & 0xffff;
      if (missing !== 0) {
        if (missing < MAX_DROPOUT) {
          this.counts.lost += missing;
          gap = true;
        } else if (missing >= 0xffff - MAX_MISORDER) {
          this.counts.outOfSequence++; // a duplicate (missing 0xffff) or late
          return out;
        } else if (seq !== this.probationSeq) {
          this.probationSeq = (seq + 1) & 0xffff;
          this.counts.outOfSequence++;
          return out;
        } else {
          gap = true; // the jump is confirmed: a restarted sender
        }
      }
    }
    this.lastSeq = seq;
    this.probationSeq = -1;

    // Unit boundaries: a gap drops the unit in progress; a new timestamp ends it.
    const ts = packet.readUInt32BE(4);
    if (gap && this.open) this.damage();
    if (this.open && ts !== this.ts) this.finish(out);
    if (!this.open) {
      this.open = true;
      this.ts = ts;
      this.headCheck = gap;
    }
    this.payload(packet, off, end);
    if (b1 & 0x80) this.finish(out);
    return out;
  }

  /** The unit in progress, if complete enough to emit (e.g. at end of stream); else []. */
  flush(): AccessUnit[] {
    const out: AccessUnit[] = [];
    this.finish(out);
    return out;
  }

  private malformedPacket(out: AccessUnit[]): AccessUnit[] {
    this.counts.malformed++;
    return out;
  }

  /** A payload that cannot be parsed: its unit misses data. */
  private malformedPayload(): void {
    this.counts.malformed++;
    this.damage();
  }

  private damage(): void {
    if (this.drop === null) this.drop = 'damaged';
    this.parts = [];
    this.bytes = 0;
  }

  private get dropping(): boolean {
    return this.drop !== null;
  }

  private payload(p: Buffer, off: number, end: number): void {
    if (end <= off) return this.malformedPayload();
    const h = p[off]!;
    if (h & 0x80) return this.malformedPayload(); // forbidden_zero_bit: the sender flags bit errors
    const type = h & 0x1f;
    if (type !== FU_A && this.fuType >= 0) this.brokenFragment();
    if (type >= 1 && type <= 23) {
      // Single NAL unit packet. Copy only what is kept.
      if (!this.dropping || type === NAL_SPS || type === NAL_PPS) this.nal(type, Buffer.from(p.subarray(off, end)));
      else if (isSlice(type)) this.slices++;
      return;
    }
    switch (type) {
      case STAP_A:
        return this.stapA(p, off, end);
      case FU_A:
        return this.fuA(p, off, end);
      case 25: // STAP-B
      case 26: // MTAP16
      case 27: // MTAP24
      case 29: // FU-B
        this.counts.unsupported++;
        this.damage();
        return;
      case 30:
      case 31:
        this.counts.unsupported++; // reserved (SVC's PACSI, …): ignored
        return;
      default:
        return this.malformedPayload(); // 0: undefined
    }
  }

  private stapA(p: Buffer, off: number, end: number): void {
    // Check every size first: a bad one makes the whole packet malformed.
    let n = 0;
    for (let i = off + 1; i < end; n++) {
      if (i + 2 > end) return this.malformedPayload();
      const size = p.readUInt16BE(i);
      i += 2;
      if (size === 0 || i + size > end) return this.malformedPayload();
      const h = p[i]!;
      const t = h & 0x1f;
      if (h & 0x80 || t === 0 || t > 23) return this.malformedPayload();
      i += size;
    }
    if (n === 0) return this.malformedPayload();
    const copy = Buffer.from(p.subarray(off + 1, end)); // one copy; the NALs are views of it
    for (let i = 0; i < copy.length; ) {
      const size = copy.readUInt16BE(i);
      i += 2;
      this.nal(copy[i]! & 0x1f, copy.subarray(i, i + size));
      i += size;
    }
  }

  private fuA(p: Buffer, off: number, end: number): void {
    if (end - off < 2) return this.malformedPayload();
    const fh = p[off + 1]!;
    const type = fh & 0x1f;
    if (type === 0 || type > 23) return this.malformedPayload();
    const start = (fh & 0x80) !== 0;
    const last = (fh & 0x40) !== 0;
    if (start) {
      if (this.fuType >= 0) this.brokenFragment(); // the previous FU never ended
      this.fuType = type;
      this.fuKeep = type !== NAL_AUD && (!this.dropping || type === NAL_SPS || type === NAL_PPS);
      this.fuBytes = 1 + end - off - 2;
      this.fuParts = this.fuKeep ? [BYTE[(p[off]! & 0xe0) | type]!, Buffer.from(p.subarray(off + 2, end))] : [];
      // The first slice after a gap must start its picture; its first_mb_in_slice is in the first fragment.
      if (isSlice(type) && this.headCheck && this.slices === 0 && !(end - off > 2 && p[off + 2]! & 0x80)) this.damage();
    } else {
      if (this.fuType !== type) return this.brokenFragment(); // no start seen, or another NAL's fragment
      this.fuBytes += end - off - 2;
      if (this.fuKeep && this.dropping && type !== NAL_SPS && type !== NAL_PPS) {
        this.fuKeep = false;
        this.fuParts = [];
      }
      if (this.fuKeep) this.fuParts.push(Buffer.from(p.subarray(off + 2, end)));
    }
    if (last) {
      if (this.fuKeep) {
        this.nalPieces(type, this.fuParts, this.fuBytes);
      } else if (isSlice(type)) {
        this.slices++;
      }
      this.fuType = -1;
      this.fuParts = [];
      this.fuBytes = 0;
    }
  }

  private brokenFragment(): void {
    this.fuType = -1;
    this.fuParts = [];
    this.fuBytes = 0;
    this.damage();
  }

  /** A whole NAL unit (its own copy, or a view of one). */
  private nal(type: number, nal: Buffer): void {
    if (type === NAL_AUD) return;
    if (isSlice(type) && this.headCheck && this.slices === 0 && !(nal.length > 1 && nal[1]! & 0x80)) this.damage();
    this.nalPieces(type, [nal], nal.length);
  }

  /** Adds a NAL unit made of `pieces` (one for a whole NAL, several for a reassembled FU-A). */
  private nalPieces(type: number, pieces: Buffer[], size: number): void {
    if (type === NAL_SPS || type === NAL_PPS) {
      const nal = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size);
      if (type === NAL_SPS) {
        this.ownSps = true;
        if (!this.sps?.equals(nal)) this.sps = keep(nal);
      } else {
        this.ownPps = true;
        if (!this.pps?.equals(nal)) this.pps = keep(nal);
      }
    } else if (isSlice(type)) {
      this.slices++;
      this.sliceBytes += size;
      if (type === NAL_IDR) this.idr = true;
    }
    if (this.dropping) return;
    this.parts.push(START_CODE);
    for (const piece of pieces) this.parts.push(piece);
    this.bytes += 4 + size;
    if (this.bytes > this.maxUnitBytes) {
      this.drop = 'oversized';
      this.parts = [];
      this.bytes = 0;
    }
  }

  /** Ends the unit in progress: emits it if whole and holding a picture, else counts why not. */
  private finish(out: AccessUnit[]): void {
    if (!this.open) return;
    if (this.fuType >= 0) this.brokenFragment(); // a NAL unit cut short
    if (this.drop === 'damaged') this.counts.damaged++;
    else if (this.drop === 'oversized') this.counts.oversized++;
    else if (this.slices > 0) {
      let parts = this.parts;
      let bytes = this.bytes;
      // A keyframe must decode on its own: the latest SPS/PPS go in front when it lacks either.
      if (this.idr && !(this.ownSps && this.ownPps)) {
        const front: Buffer[] = [];
        if (this.sps) front.push(START_CODE, this.sps);
        if (this.pps) front.push(START_CODE, this.pps);
        for (let i = 1; i < front.length; i += 2) bytes += 4 + front[i]!.length;
        parts = front.concat(parts);
      }
      out.push({ data: Buffer.concat(parts, bytes), key: this.idr, sliceBytes: this.sliceBytes, timestamp: this.ts });
      this.counts.units++;
      if (this.idr) this.counts.keyframes++;
    }
    // A unit without slices (SPS/PPS/SEI sent with a timestamp or marker of their own) is not a
    // picture: not emitted; its SPS/PPS are remembered for the next keyframe.
    this.open = false;
    this.parts = [];
    this.bytes = 0;
    this.slices = 0;
    this.sliceBytes = 0;
    this.idr = false;
    this.ownSps = false;
    this.ownPps = false;
    this.drop = null;
    this.headCheck = false;
  }
}
