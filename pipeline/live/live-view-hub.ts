import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log/index.js';
import { redactCredentials } from '../video/redact.js';
import { terminate } from '../video/terminate.js';
import { chooseStream } from '../video/ffmpeg-args.js';
import { buildLiveArgs, type LiveArgsOptions } from './live-args.js';
import { Mp4BoxScanner, type Mp4Piece } from './mp4-boxes.js';
import { RtspLiveSource } from './rtsp-live-source.js';

/** One browser watching: gets the init segment, then fragments. */
export interface LiveViewer {
  write(chunk: Buffer): void;
  /** Bytes written but not yet sent (the socket's backlog). */
  backlog(): number;
  /** The stream ended (camera gone, ffmpeg failed, hub closed); `reason` says why. */
  end(reason: string): void;
}

export interface LiveViewHubOptions {
  logger: Logger;
  ffmpegPath?: string;
  /** A viewer whose socket holds more than this many unsent bytes misses fragments until it drains. Default 8 MiB. */
  maxViewerBacklogBytes?: number;
  /** Keep a stream this long after its last viewer left (a page reload). Default 0: stop at once. */
  lingerMs?: number;
  /** An RTSP camera's socket is read at most this often (RtspClientOptions.readEveryMs). Default 100 ms. */
  readEveryMs?: number;
}

/** Where a camera's fMP4 comes from: this process (pid null) or an ffmpeg. */
interface Feed {
  pid: number | null;
  stop(): void;
  exited: Promise<void>;
}

interface CameraStream {
  key: string;
  feed: Feed | null;
  viewers: Set<LiveViewer>;
  /** ftyp + moov: what every viewer is sent first. */
  init: Buffer | null;
  /** The fragment being relayed, from its moof (a keyframe): a new viewer starts from it, not a GOP later. */
  current: Buffer[];
  /** Viewers sent the current fragment from its start; the others wait for the next one. */
  sending: Set<LiveViewer>;
  linger: NodeJS.Timeout | null;
  bytesIn: number;
  startedAt: number;
}

export interface LiveViewStats {
  streams: number;
  viewers: number;
  /** `via`: where the fMP4 is made, in this process from RTSP or by an ffmpeg. */
  cameras: { camera: string; viewers: number; bytes: number; seconds: number; via: 'rtsp' | 'ffmpeg' | null }[];
}

/**
 * One ffmpeg per watched camera, shared by all its viewers, copying the
 * camera's H.264 into fragmented MP4 (no decoding, no encoding); started by the
 * first viewer, stopped when the last one leaves.
 */
export class LiveViewHub {
  private readonly streams = new Map<string, CameraStream>();
  private closed = false;

  constructor(private readonly o: LiveViewHubOptions) {}

  /** Adds a viewer of a camera; returns the function that removes it. */
  watch(camera: string, source: LiveArgsOptions, viewer: LiveViewer): () => void {
    if (this.closed) {
      viewer.end('the live view service is shutting down');
      return () => undefined;
    }
    const key = `${camera}${source.sub ? '#sub' : ''}`;
    let s = this.streams.get(key);
    if (!s) s = this.start(key, camera, source);
    if (s.linger) {
      clearTimeout(s.linger);
      s.linger = null;
    }
    s.viewers.add(viewer);
    if (s.init) {
      viewer.write(s.init);
      for (const piece of s.current) viewer.write(piece);
      s.sending.add(viewer);
    }
    const stream = s;
    return () => {
      if (!stream.viewers.delete(viewer)) return;
      stream.sending.delete(viewer);
      if (stream.viewers.size > 0 || this.streams.get(key) !== stream) return;
      const lingerMs = this.o.lingerMs ?? 0;
      if (lingerMs <= 0) this.stop(stream, 'last viewer left');
      else stream.linger = setTimeout(() => stream.viewers.size === 0 && this.stop(stream, 'last viewer left'), lingerMs);
    };
  }

  stats(): LiveViewStats {
    const now = Date.now();
    const cameras = [...this.streams.values()].map((s) => ({ camera: s.key, viewers: s.viewers.size, bytes: s.bytesIn, seconds: (now - s.startedAt) / 1000, via: s.feed ? (s.feed.pid === null ? ('rtsp' as const) : ('ffmpeg' as const)) : null }));
    return { streams: cameras.length, viewers: cameras.reduce((n, c) => n + c.viewers, 0), cameras };
  }

  /** The ffmpeg process ids (streams that are not received here), for tests and the benchmark. */
  pids(): number[] {
    return [...this.streams.values()].map((s) => s.feed?.pid ?? 0).filter(Boolean);
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.streams.values()].map((s) => {
      const gone = s.feed?.exited ?? Promise.resolve();
      this.stop(s, 'the live view service is shutting down');
      return gone;
    });
    await Promise.all(exits);
  }

  private start(key: string, camera: string, source: LiveArgsOptions): CameraStream {
    const { url } = chooseStream(source.streams, !source.sub);
    const s: CameraStream = { key, feed: null, viewers: new Set(), init: null, current: [], sending: new Set(), linger: null, bytesIn: 0, startedAt: Date.now() };
    this.streams.set(key, s);
    const log = this.o.logger.child({ stage: 'live', camera });
    if (url && /^rtsp:/i.test(url)) this.receive(s, source, url, log);
    else this.viaFfmpeg(s, source, log);
    return s;
  }

  /** A new init segment (the first, or the camera's new SPS/PPS): every viewer gets it before the next fragment. */
  private setInit(s: CameraStream, init: Buffer): void {
    s.init = init;
    for (const v of s.viewers) v.write(init);
  }

  /** A new fragment begins (at a keyframe): each viewer takes it whole or skips it whole (a slow link loses fragments, never half of one). */
  private beginFragment(s: CameraStream): void {
    s.current = [];
    s.sending.clear();
    const maxBacklog = this.o.maxViewerBacklogBytes ?? 8 * 1024 * 1024;
    for (const v of s.viewers) if (v.backlog() <= maxBacklog) s.sending.add(v);
  }

  private relay(s: CameraStream, bytes: Buffer): void {
    s.current.push(bytes);
    for (const v of s.sending) v.write(bytes);
  }

  /** The camera's stream ended on its own: its viewers are told why. */
  private ended(s: CameraStream, reason: string): void {
    if (this.streams.get(s.key) !== s) return;
    this.o.logger.child({ stage: 'live' }).warn({ camera: s.key, reason }, 'live view: camera stream ended');
    this.streams.delete(s.key);
    for (const v of s.viewers) v.end(`the camera stream ended: ${reason}`);
    s.viewers.clear();
  }

  /** rtsp://: received and put into fMP4 in this process (RtspLiveSource); a stream that is not H.264 goes to ffmpeg. */
  private receive(s: CameraStream, source: LiveArgsOptions, url: string, log: Logger): void {
    const live = new RtspLiveSource({
      url,
      timeoutMs: source.timeoutMs ?? 10_000,
      readEveryMs: this.o.readEveryMs ?? 100,
      onInit: (init) => this.setInit(s, init),
      onFragment: (bytes) => {
        s.bytesIn += bytes.length;
        this.beginFragment(s);
        this.relay(s, bytes);
      },
      onEnd: (reason) => {
        s.feed = null;
        this.ended(s, reason);
      },
    });
    let done!: () => void;
    const feed: Feed = { pid: null, stop: () => void live.close().finally(done), exited: new Promise<void>((r) => (done = r)) };
    s.feed = feed;
    log.info({ url: redactCredentials(url) }, 'live view started (RTSP received here)');
    live.start().then(
      (track) => {
        if (track.codec === 'H264' || s.feed !== feed) return;
        log.info({ codec: track.codec }, 'live view: the stream is not H.264; ffmpeg puts it in fMP4');
        void live.close().finally(done);
        if (this.streams.get(s.key) === s) this.viaFfmpeg(s, source, log);
      },
      (err: Error) => {
        done();
        if (s.feed === feed) {
          s.feed = null;
          this.ended(s, err.message);
        }
      },
    );
  }

  /** Any other stream: ffmpeg copies it (never decodes it) into fMP4 on stdout, and the box boundaries are found as the bytes pass. */
  private viaFfmpeg(s: CameraStream, source: LiveArgsOptions, log: Logger): void {
    const { args, url } = buildLiveArgs(source);
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const feed: Feed = { pid: child.pid ?? null, stop: () => child.exitCode === null && child.signalCode === null && terminate(child), exited };
    s.feed = feed;
    log.info({ url: redactCredentials(url), pid: child.pid }, 'live view started (ffmpeg)');
    let initPieces: Buffer[] = [];
    /** The current fragment's mdat has ended: the next moof starts a new one. */
    let fragmentClosed = true;
    const scanner = new Mp4BoxScanner((piece: Mp4Piece) => {
      if (!s.init) {
        if (piece.box === 'moof') throw new Error('fragmented MP4: a fragment came before the moov box');
        initPieces.push(Buffer.from(piece.bytes));
        if (piece.box === 'moov' && piece.end) {
          this.setInit(s, Buffer.concat(initPieces));
          initPieces = [];
        }
        return;
      }
      if (piece.start && fragmentClosed && (piece.box === 'moof' || piece.box === 'styp')) {
        fragmentClosed = false;
        this.beginFragment(s);
      }
      this.relay(s, piece.bytes);
      if (piece.box === 'mdat' && piece.end) fragmentClosed = true;
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.stdout!.on('data', (chunk: Buffer) => {
      s.bytesIn += chunk.length;
      try {
        scanner.push(chunk);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'live view: bad fragmented MP4 from ffmpeg');
        this.stop(s, (err as Error).message);
      }
    });
    child.once('error', (err) => {
      log.error({ err: err.message }, 'live view: ffmpeg could not start (is ffmpeg installed?)');
      this.stop(s, `ffmpeg could not start: ${err.message}`);
    });
    child.once('close', (code, signal) => {
      if (s.feed !== feed) return;
      s.feed = null;
      this.ended(s, redactCredentials(stderr.trim().split('\n').pop() || `ffmpeg exited with ${code ?? signal}`));
    });
  }

  private stop(s: CameraStream, reason: string): void {
    if (this.streams.get(s.key) === s) this.streams.delete(s.key);
    if (s.linger) clearTimeout(s.linger);
    for (const v of s.viewers) v.end(reason);
    s.viewers.clear();
    s.sending.clear();
    const feed = s.feed;
    s.feed = null;
    feed?.stop();
    this.o.logger.child({ stage: 'live' }).info({ camera: s.key, reason }, 'live view stopped');
  }
}
