import type { AccessUnit } from '../video/annexb.js';
import { redactCredentials } from '../video/redact.js';
import { H264Depacketizer } from '../video/rtp-h264.js';
import { RtspClient, type RtspError, type RtspVideoTrack } from '../video/rtsp-client.js';
import { annexBToAvccInPlace, fmp4Fragment, fmp4InitSegment, type Fmp4Sample } from './fmp4-writer.js';

export interface RtspLiveSourceOptions {
  url: string;
  timeoutMs?: number;
  /** RtspClientOptions.readEveryMs: fragments wait for a whole GOP anyway, so reading in batches costs no visible latency. */
  readEveryMs?: number;
  /** A GOP bigger than this is dropped (a camera that never sends a keyframe must not fill memory). Default 64 MiB. */
  maxGopBytes?: number;
  /** The init segment (again when the camera's SPS/PPS change: a new resolution). */
  onInit(bytes: Buffer): void;
  /** One whole fragment (moof + mdat), a GOP from its keyframe. */
  onFragment(bytes: Buffer): void;
  /** The session ended (not after close()); `reason` says why. */
  onEnd(reason: string): void;
}

export interface RtspLiveSourceStats {
  fragments: number;
  /** Pictures before the first keyframe (nothing to decode them from). */
  skipped: number;
  /** GOPs dropped for exceeding maxGopBytes. */
  oversized: number;
  reads: number;
}

/**
 * A live view's camera received in this process: RTSP over TCP (RtspClient),
 * RTP back into pictures (H264Depacketizer), the pictures' H.264 moved as they
 * are (Annex B start codes turned into lengths in place) into one fMP4
 * fragment per GOP, sent when the next keyframe arrives — what ffmpeg's
 * `frag_keyframe` does, so the viewer gets the same stream at the same latency.
 * Why not ffmpeg: its RTSP reader makes three reads and three polls per RTP
 * packet (~2,500 system calls a second for a 4 Mbit/s main stream), most of
 * the live view's cost; a read here takes many packets at once.
 *
 * Decode times come from the RTP timestamps (a picture lasts until the next
 * one's timestamp); a stream whose timestamps go backwards (B-frames, which
 * cameras do not send) would get the previous picture's duration instead.
 */
export class RtspLiveSource {
  private readonly client: RtspClient;
  private depacketizer: H264Depacketizer | null = null;
  private clockRate = 90_000;
  private gop: AccessUnit[] = [];
  private gopBytes = 0;
  private sps: Buffer | null = null;
  private pps: Buffer | null = null;
  private sequence = 0;
  private baseTime = 0;
  private lastDuration = 0;
  private closed = false;
  private readonly counts = { fragments: 0, skipped: 0, oversized: 0 };

  constructor(private readonly o: RtspLiveSourceOptions) {
    this.client = new RtspClient({ url: o.url, timeoutMs: o.timeoutMs ?? 10_000, readEveryMs: o.readEveryMs ?? 0 });
  }

  stats(): RtspLiveSourceStats {
    return { ...this.counts, reads: this.client.stats().reads };
  }

  /** Plays the stream; resolves with its video track (the caller hands a stream that is not H.264 to ffmpeg). */
  async start(): Promise<RtspVideoTrack> {
    this.client.onTrack = (track) => {
      this.clockRate = track.clockRate || 90_000;
      this.lastDuration = Math.round(this.clockRate / 25);
      if (track.codec === 'H264') this.depacketizer = new H264Depacketizer({ parameterSets: track.parameterSets, payloadType: track.payloadType });
    };
    this.client.onRtp = (packet) => {
      const d = this.depacketizer;
      if (d) for (const au of d.push(packet)) this.unit(au);
    };
    this.client.onClose = (err: RtspError | null) => {
      if (!this.closed) this.end(err ? redactCredentials(err.message) : 'the camera closed the session');
    };
    try {
      return await this.client.start();
    } catch (err) {
      this.closed = true;
      throw new Error(redactCredentials((err as Error).message));
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return this.client.close();
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    void this.client.close();
    this.o.onEnd(reason);
  }

  private unit(au: AccessUnit): void {
    if (this.closed) return;
    if (!annexBToAvccInPlace(au.data)) return;
    if (au.key) {
      if (this.gop.length > 0) this.flush(au.timestamp ?? 0);
      try {
        this.parameterSets(au.data);
      } catch (err) {
        this.end(`the camera's H.264 cannot be put in MP4: ${(err as Error).message}`);
        return;
      }
    } else if (this.gop.length === 0) {
      this.counts.skipped++; // no keyframe yet, or its GOP was dropped
      return;
    }
    this.gop.push(au);
    this.gopBytes += au.data.length;
    if (this.gopBytes > (this.o.maxGopBytes ?? 64 * 1024 * 1024)) {
      this.counts.oversized++;
      this.gop = [];
      this.gopBytes = 0;
    }
  }

  /** A keyframe's SPS and PPS (the depacketizer puts the latest in front of every one): a new init segment when they change. */
  private parameterSets(avcc: Buffer): void {
    let sps: Buffer | null = null;
    let pps: Buffer | null = null;
    for (let at = 0; at + 4 < avcc.length; ) {
      const len = avcc.readUInt32BE(at);
      const type = avcc[at + 4]! & 0x1f;
      if (type === 7 && !sps) sps = avcc.subarray(at + 4, at + 4 + len);
      else if (type === 8 && !pps) pps = avcc.subarray(at + 4, at + 4 + len);
      at += 4 + len;
    }
    if (!sps || !pps) throw new RangeError('a keyframe came without SPS and PPS (none in the stream or the SDP)');
    if (this.sps?.equals(sps) && this.pps?.equals(pps)) return;
    this.sps = Buffer.from(sps);
    this.pps = Buffer.from(pps);
    this.o.onInit(fmp4InitSegment(this.sps, this.pps, this.clockRate).bytes);
  }

  /** The GOP so far as one fragment; `nextTimestamp` (the next keyframe's) ends its last picture. */
  private flush(nextTimestamp: number): void {
    const samples: Fmp4Sample[] = [];
    let total = 0;
    for (let i = 0; i < this.gop.length; i++) {
      const au = this.gop[i]!;
      const next = i + 1 < this.gop.length ? this.gop[i + 1]!.timestamp! : nextTimestamp;
      let duration = (next - au.timestamp!) >>> 0; // RTP timestamps wrap at 32 bits
      if (duration === 0 || duration > 10 * this.clockRate) duration = this.lastDuration;
      this.lastDuration = duration;
      total += duration;
      samples.push({ data: au.data, duration, key: au.key });
    }
    // One buffer a fragment: each viewer's socket gets one write per GOP.
    const bytes = Buffer.concat(fmp4Fragment(++this.sequence, this.baseTime, samples));
    this.baseTime += total;
    this.gop = [];
    this.gopBytes = 0;
    this.counts.fragments++;
    this.o.onFragment(bytes);
  }
}
