import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log/index.js';
import { redactCredentials } from '../video/redact.js';
import { terminate } from '../video/terminate.js';
import { buildLiveArgs, type LiveArgsOptions } from './live-args.js';
import { Mp4BoxScanner, type Mp4Piece } from './mp4-boxes.js';

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
}

interface CameraStream {
  key: string;
  child: ChildProcess;
  viewers: Set<LiveViewer>;
  /** ftyp + moov: what every viewer is sent first. */
  init: Buffer | null;
  initPieces: Buffer[];
  /** The fragment being relayed, from its moof (a keyframe): a new viewer starts from it, not a GOP later. */
  current: Buffer[];
  /** The current fragment's mdat has ended: the next moof starts a new one. */
  fragmentClosed: boolean;
  /** Viewers sent the current fragment from its start; the others wait for the next one. */
  sending: Set<LiveViewer>;
  linger: NodeJS.Timeout | null;
  bytesIn: number;
  startedAt: number;
}

export interface LiveViewStats {
  streams: number;
  viewers: number;
  cameras: { camera: string; viewers: number; bytes: number; seconds: number }[];
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
    const cameras = [...this.streams.values()].map((s) => ({ camera: s.key, viewers: s.viewers.size, bytes: s.bytesIn, seconds: (now - s.startedAt) / 1000 }));
    return { streams: cameras.length, viewers: cameras.reduce((n, c) => n + c.viewers, 0), cameras };
  }

  /** The ffmpeg process ids, for tests and the benchmark. */
  pids(): number[] {
    return [...this.streams.values()].map((s) => s.child.pid!).filter(Boolean);
  }

  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.streams.values()].map((s) => {
      const gone = new Promise<void>((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r() : s.child.once('close', () => r())));
      this.stop(s, 'the live view service is shutting down');
      return gone;
    });
    await Promise.all(exits);
  }

  private start(key: string, camera: string, source: LiveArgsOptions): CameraStream {
    const { args, url } = buildLiveArgs(source);
    const log = this.o.logger.child({ stage: 'live', camera });
    const child = spawn(this.o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const s: CameraStream = { key, child, viewers: new Set(), init: null, initPieces: [], current: [], fragmentClosed: true, sending: new Set(), linger: null, bytesIn: 0, startedAt: Date.now() };
    this.streams.set(key, s);
    log.info({ url: redactCredentials(url), pid: child.pid }, 'live view started');
    const maxBacklog = this.o.maxViewerBacklogBytes ?? 8 * 1024 * 1024;
    const scanner = new Mp4BoxScanner((piece: Mp4Piece) => {
      if (!s.init) {
        if (piece.box === 'moof') throw new Error('fragmented MP4: a fragment came before the moov box');
        s.initPieces.push(Buffer.from(piece.bytes));
        if (piece.box === 'moov' && piece.end) {
          s.init = Buffer.concat(s.initPieces);
          s.initPieces = [];
          for (const v of s.viewers) v.write(s.init);
        }
        return;
      }
      if (piece.start && s.fragmentClosed && (piece.box === 'moof' || piece.box === 'styp')) {
        // A new fragment, at a keyframe: each viewer takes it whole or skips it
        // whole (a slow link loses fragments, never half of one).
        s.fragmentClosed = false;
        s.current = [];
        s.sending.clear();
        for (const v of s.viewers) if (v.backlog() <= maxBacklog) s.sending.add(v);
      }
      s.current.push(piece.bytes);
      for (const v of s.sending) v.write(piece.bytes);
      if (piece.box === 'mdat' && piece.end) s.fragmentClosed = true;
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
      if (this.streams.get(key) !== s) return;
      const reason = stderr.trim().split('\n').pop() || `ffmpeg exited with ${code ?? signal}`;
      log.warn({ code, signal, reason: redactCredentials(reason) }, 'live view: camera stream ended');
      this.streams.delete(key);
      for (const v of s.viewers) v.end(`the camera stream ended: ${redactCredentials(reason)}`);
      s.viewers.clear();
    });
    return s;
  }

  private stop(s: CameraStream, reason: string): void {
    if (this.streams.get(s.key) === s) this.streams.delete(s.key);
    if (s.linger) clearTimeout(s.linger);
    for (const v of s.viewers) v.end(reason);
    s.viewers.clear();
    s.sending.clear();
    if (s.child.exitCode === null && s.child.signalCode === null) terminate(s.child);
    this.o.logger.child({ stage: 'live' }).info({ camera: s.key, reason }, 'live view stopped');
  }
}
