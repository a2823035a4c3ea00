import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import { leaseKeys, leaseToken, type LeaseKeys } from './keys.js';
import { byPreference, preferences, type CameraPreference } from './rendezvous.js';
import { acquireLeases, beat, releaseLeases, type BeatResult, type HeldToken } from './scripts.js';

/** A camera lease as its holder sees it. `epoch` is the fencing token: strictly larger for every later holder of the camera. */
export interface CameraLease {
  camera: string;
  epoch: number;
  /** The exact value stored under the camera's key (`<workerId>|<epoch>`). */
  token: string;
}

/**
 * Why a lease was lost (as opposed to released on purpose):
 * - `not-owned`: at renewal the key held someone else's token or nothing (it expired, e.g. the event loop or the network stalled past the TTL);
 * - `expired`: no renewal reached Redis before the local deadline (Redis unreachable), so another worker may take it any moment now.
 */
export type LeaseLostReason = 'not-owned' | 'expired';

export interface CameraLeaseEvents {
  /** Start the camera. Not awaited by the manager; failures are logged. */
  acquired: (camera: string, lease: CameraLease) => void | Promise<void>;
  /**
   * Stop the camera: we give it up on purpose (rebalance, camera removed, stop()).
   * Awaited (bounded by `releaseWaitMs`) before the key is deleted, so the next
   * holder starts only after this one stopped.
   */
  released: (camera: string, lease: CameraLease) => void | Promise<void>;
  /** Stop the camera now: another worker may already run it. Not awaited. */
  lost: (camera: string, lease: CameraLease, reason: LeaseLostReason) => void | Promise<void>;
}

export interface CameraLeaseManagerOptions {
  redis: Redis;
  /** Prefix of every key, e.g. `portwatch:` (a site) or a unique one per test. */
  prefix: string;
  /** Unique per process, stable for its life (e.g. `host:pid:random`). Must not be shared by two live processes. */
  workerId: string;
  /** Every camera id of the site; all workers must be given the same list. */
  cameras: readonly string[];
  logger: Logger;
  /** Lease and registry TTL. Default 10 000 ms: a dead worker's cameras are taken over within ttl + heartbeat. */
  ttlMs?: number;
  /** Heartbeat period: renew, refresh registry, rebalance. Default ttl / 3. */
  heartbeatMs?: number;
  /** At most this many cameras given up per heartbeat when over the fair share (spreads restarts). Default 10. */
  maxReleasePerBeat?: number;
  /** Never hold more than this many cameras, whatever the fair share (what this machine can run). Default unlimited. */
  capacity?: number;
  /**
   * Wait this long after registering before taking cameras, so workers started
   * together see each other and the first one does not grab everything. Default = heartbeat.
   */
  joinDelayMs?: number;
  /** Longest wait for `released` listeners before the key is deleted anyway. Default min(heartbeat, 5 s). */
  releaseWaitMs?: number;
  /**
   * What a lease whose renewal cannot reach Redis becomes at its local deadline.
   * false (default): lost (`expired`), the camera stops before anyone else can
   * start it (strict single ownership). true: kept, unconfirmed, while Redis is
   * unreachable: the cameras keep being watched, and the first heartbeat that
   * reaches Redis decides: still ours → renewed; key gone and nobody took it →
   * taken back under a fresh epoch; someone else's → lost (`not-owned`). The
   * price, in a partition where another worker still reaches Redis, is both
   * workers watching the camera until this one reaches Redis again (docs/scale-out.md).
   */
  keepThroughOutage?: boolean;
}

interface HeldLease extends CameraLease {
  /** performance.now() deadline after which we must assume another worker can hold it. */
  validUntil: number;
  /** Past its deadline and kept through a Redis outage (`keepThroughOutage`): the next heartbeat decides. */
  unconfirmed?: boolean;
}

type EventName = keyof CameraLeaseEvents;
type AnyListener = (...args: never[]) => void | Promise<void>;

/**
 * Shares the site's cameras among all live camera workers through Redis leases.
 * One per worker process. See docs/scale-out.md for the protocol and its timings.
 */
export class CameraLeaseManager {
  readonly workerId: string;
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  private readonly redis: Redis;
  private readonly keys: LeaseKeys;
  private readonly log: Logger;
  private readonly maxReleasePerBeat: number;
  private readonly capacity: number;
  private readonly joinDelayMs: number;
  private readonly releaseWaitMs: number;
  /** Safety margin: we treat a lease as gone this long before Redis would expire it (clock drift, late timers). */
  private readonly driftMs: number;

  private cameras: string[];
  private cameraSet: Set<string>;
  private readonly held = new Map<string, HeldLease>();
  /** Given up on purpose, listeners still running, key not yet deleted. */
  private readonly releasing = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly listeners = new Map<EventName, Set<AnyListener>>();

  private live: string[] = [];
  private prefCache: { key: string; prefs: Map<string, CameraPreference> } | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private acquireAfter = 0;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private peerTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private inFlightSince = 0;
  private beatAgain = false;
  private redisTrouble: string | undefined;
  private readonly keepThroughOutage: boolean;

  constructor(opts: CameraLeaseManagerOptions) {
    if (!opts.workerId) throw new Error('CameraLeaseManager: workerId is required (unique per process, e.g. host:pid:random)');
    const ttlMs = opts.ttlMs ?? 10_000;
    if (!(ttlMs >= 100)) throw new Error(`CameraLeaseManager: ttlMs must be at least 100 ms, got ${ttlMs}`);
    const heartbeatMs = opts.heartbeatMs ?? Math.floor(ttlMs / 3);
    if (!(heartbeatMs > 0 && heartbeatMs <= ttlMs / 2)) {
      throw new Error(`CameraLeaseManager: heartbeatMs must be in (0, ttl/2] so a lease is renewed at least twice per TTL, got ${heartbeatMs} for ttl ${ttlMs}`);
    }
    this.redis = opts.redis;
    this.workerId = opts.workerId;
    this.keys = leaseKeys(opts.prefix);
    this.log = opts.logger.child({ stage: 'lease', worker: opts.workerId });
    this.ttlMs = ttlMs;
    this.heartbeatMs = heartbeatMs;
    this.maxReleasePerBeat = Math.max(1, opts.maxReleasePerBeat ?? 10);
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
    this.joinDelayMs = opts.joinDelayMs ?? heartbeatMs;
    this.releaseWaitMs = opts.releaseWaitMs ?? Math.min(heartbeatMs, 5_000);
    this.driftMs = Math.max(50, Math.ceil(ttlMs * 0.05));
    this.cameras = [...new Set(opts.cameras)];
    this.cameraSet = new Set(this.cameras);
    this.keepThroughOutage = opts.keepThroughOutage ?? false;
  }

  on<K extends EventName>(event: K, listener: CameraLeaseEvents[K]): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as AnyListener);
    return this;
  }

  off<K extends EventName>(event: K, listener: CameraLeaseEvents[K]): this {
    this.listeners.get(event)?.delete(listener as AnyListener);
    return this;
  }

  /** Cameras this worker holds now, sorted. */
  heldCameras(): string[] {
    return [...this.held.keys()].sort();
  }

  lease(camera: string): CameraLease | undefined {
    const l = this.held.get(camera);
    return l && { camera: l.camera, epoch: l.epoch, token: l.token };
  }

  /** Live workers as of the last successful heartbeat (sorted, ours included). */
  liveWorkers(): string[] {
    return [...this.live];
  }

  /** ceil(cameras / live workers), capped by `capacity`. */
  fairShare(): number {
    const n = Math.max(1, this.live.length);
    return Math.min(this.capacity, Math.ceil(this.cameras.length / n));
  }

  /** Register and start heartbeating. Resolves after the first heartbeat, or after one heartbeat period when Redis does not answer (it never throws for Redis trouble: the loop retries). */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.stopped) throw new Error('CameraLeaseManager: cannot start again after stop(); create a new manager');
    this.started = true;
    this.acquireAfter = performance.now() + this.joinDelayMs;
    this.log.info({ cameras: this.cameras.length, ttlMs: this.ttlMs, heartbeatMs: this.heartbeatMs }, 'lease manager starting');
    this.tick();
    // Redis down at start: the first beat waits for it (commands queue until it is back); the
    // worker must still start (its other stages run, its signals are handled). Cameras follow
    // as soon as a beat gets through.
    if (this.inFlight) await withTimeout(this.inFlight, this.heartbeatMs);
    this.schedule();
  }

  /** Run a heartbeat now (after the one in flight, if any) instead of waiting for the timer. */
  async beatNow(): Promise<void> {
    if (!this.started || this.stopped) return;
    await this.inFlight;
    this.tick();
    await this.inFlight;
  }

  /** Replace the camera list (site config reload): removed cameras are released at once, new ones become candidates. */
  setCameras(cameras: readonly string[]): void {
    this.cameras = [...new Set(cameras)];
    this.cameraSet = new Set(this.cameras);
    this.prefCache = undefined;
    for (const lease of [...this.held.values()]) {
      if (!this.cameraSet.has(lease.camera)) this.releaseGracefully(lease);
    }
  }

  /**
   * Graceful stop: `released` for every camera (awaited, bounded), then all
   * keys deleted and the registry entry removed in one atomic step, so the
   * other workers take the cameras at their next heartbeat instead of after the TTL.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.peerTimer) clearTimeout(this.peerTimer);
    this.timer = this.expiryTimer = this.peerTimer = undefined;
    // Without Redis there is nothing to wait for: the keys expire by TTL, and a stop must stay bounded.
    const reachable = this.redis.status === 'ready' && this.redisTrouble === undefined;
    if (this.inFlight && reachable) await withTimeout(this.inFlight, this.ttlMs);
    const leases = [...this.held.values()];
    this.held.clear();
    await withTimeout(Promise.all(leases.map((l) => this.emit('released', [l.camera, publicLease(l)]))), this.releaseWaitMs);
    if (!reachable && this.started) this.log.info({ leases: leases.length }, 'Redis unreachable at stop: leases left to expire by TTL');
    else if (this.started && this.redis.status !== 'end') {
      const done = await withTimeout(
        releaseLeases(this.redis, this.keys, leases, this.workerId).then(
          () => true,
          (err: unknown) => {
            this.log.warn({ err }, 'could not release leases on stop; they expire by TTL');
            return false;
          },
        ),
        this.ttlMs,
      );
      if (done === TIMEOUT) this.log.warn({ ttlMs: this.ttlMs }, 'Redis did not answer the release on stop; the leases expire by TTL');
    }
    if (reachable) await withTimeout(Promise.allSettled([...this.pending]), this.ttlMs);
    this.log.info({ released: leases.length }, 'lease manager stopped');
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
      this.schedule();
    }, this.heartbeatMs);
  }

  /** At most one beat in flight: a hung Redis command never piles up more; local expiry keeps us safe meanwhile. */
  private tick(again = false): void {
    if (this.stopped) return;
    if (this.inFlight) {
      // The beat in flight may have started just before the peer expired: beat once more right after it.
      if (again) this.beatAgain = true;
      const stuck = performance.now() - this.inFlightSince;
      if (stuck > this.ttlMs) this.trouble(`heartbeat has waited ${Math.round(stuck)} ms for Redis`);
      return;
    }
    this.inFlightSince = performance.now();
    this.inFlight = this.beatOnce()
      .catch((err: unknown) => this.log.error({ err }, 'lease heartbeat crashed; retrying next beat'))
      .finally(() => {
        this.inFlight = undefined;
        if (this.beatAgain) {
          this.beatAgain = false;
          this.tick();
        }
      });
  }

  private async beatOnce(): Promise<void> {
    const status = this.redis.status;
    if (status === 'end' || status === 'close' || status === 'reconnecting') {
      this.trouble(`Redis connection is ${status}`);
      return;
    }
    const sentAt = performance.now();
    const leases = [...this.held.values()];
    let res: BeatResult;
    try {
      res = await beat(this.redis, this.keys, this.workerId, this.ttlMs, leases, { reclaim: this.keepThroughOutage });
    } catch (err) {
      this.trouble(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.redisTrouble !== undefined) {
      // With keepThroughOutage the process's Redis tracker tells operators (one line per outage, not one per part).
      this.log[this.keepThroughOutage ? 'debug' : 'info']({ was: this.redisTrouble }, 'Redis reachable again; leases resume');
      this.redisTrouble = undefined;
    }
    this.applyRenewals(leases, res.renewed, sentAt, res.reclaimed);
    if (this.stopped) return;
    this.live = res.liveWorkers.includes(this.workerId) ? res.liveWorkers : [...res.liveWorkers, this.workerId].sort();
    this.watchPeers(res.nextPeerExpiryMs);

    const share = this.fairShare();
    // Cameras removed from the site config go first and do not count against the gradual limit.
    for (const lease of [...this.held.values()]) if (!this.cameraSet.has(lease.camera)) this.releaseGracefully(lease);
    if (this.held.size > share) {
      this.rebalanceDown(share);
    } else if (this.held.size < share && performance.now() >= this.acquireAfter) {
      await this.acquireUpTo(share);
    }
    this.armExpiry();
  }

  private applyRenewals(sent: readonly HeldLease[], renewed: readonly boolean[], sentAt: number, reclaimed: ReadonlyArray<number | null> = []): void {
    const lateGiveBack: HeldToken[] = [];
    const reclaimedCameras: string[] = [];
    sent.forEach((lease, i) => {
      const ok = renewed[i] === true;
      const current = this.held.get(lease.camera);
      if (current && current.token === lease.token) {
        // Redis set PX after it received the command, i.e. after sentAt: sentAt + ttl is a safe lower bound of its expiry.
        if (ok) {
          current.validUntil = sentAt + this.ttlMs - this.driftMs;
          const epoch = reclaimed[i];
          if (epoch != null) {
            this.log.debug({ camera: current.camera, was: current.epoch, epoch }, 'camera lease taken back under a new epoch');
            reclaimedCameras.push(current.camera);
            current.epoch = epoch;
            current.token = leaseToken(this.workerId, epoch);
          }
          current.unconfirmed = false;
        } else this.lose(current, 'not-owned');
      } else if (ok && !this.releasing.has(lease.camera)) {
        // We had already declared it lost locally (deadline passed) but the renewal landed: hand it back at once.
        lateGiveBack.push(lease);
      }
    });
    if (lateGiveBack.length > 0) this.bestEffortRelease(lateGiveBack);
    // One line for all of them: after an outage that is every camera of the worker.
    if (reclaimedCameras.length > 0) {
      this.log.info({ cameras: reclaimedCameras.length, first: reclaimedCameras[0] }, `${reclaimedCameras.length} camera leases had expired and nobody took them: taken back under new epochs, the cameras kept running`);
    }
    this.armExpiry();
  }

  private prefs(): Map<string, CameraPreference> {
    const key = `${this.live.join('\n')}\n#${this.cameras.length}`;
    if (this.prefCache?.key !== key) this.prefCache = { key, prefs: preferences(this.workerId, this.live, this.cameras) };
    return this.prefCache.prefs;
  }

  private rebalanceDown(share: number): void {
    const prefs = this.prefs();
    const worstFirst = [...this.held.values()]
      .map((l) => prefs.get(l.camera) ?? { camera: l.camera, rank: Number.MAX_SAFE_INTEGER, score: 0 })
      .sort(byPreference)
      .reverse();
    const n = Math.min(this.held.size - share, this.maxReleasePerBeat);
    const give = worstFirst.slice(0, n);
    this.log.info({ held: this.held.size, share, releasing: give.length, live: this.live.length }, 'over fair share; releasing cameras');
    for (const p of give) {
      const lease = this.held.get(p.camera);
      if (lease) this.releaseGracefully(lease);
    }
  }

  private async acquireUpTo(share: number): Promise<void> {
    const prefs = this.prefs();
    const candidates = this.cameras
      .filter((c) => !this.held.has(c) && !this.releasing.has(c))
      .map((c) => prefs.get(c) ?? { camera: c, rank: Number.MAX_SAFE_INTEGER, score: 0 })
      .sort(byPreference)
      .map((p) => p.camera);
    const want = share - this.held.size;
    const sentAt = performance.now();
    let got;
    try {
      got = await acquireLeases(this.redis, this.keys, this.workerId, this.ttlMs, candidates, want);
    } catch (err) {
      this.trouble(err instanceof Error ? err.message : String(err));
      return;
    }
    const validUntil = sentAt + this.ttlMs - this.driftMs;
    const tooLate: HeldToken[] = [];
    for (const a of got) {
      if (this.stopped || !this.cameraSet.has(a.camera) || performance.now() >= validUntil || this.held.has(a.camera)) {
        tooLate.push(a);
        continue;
      }
      const lease: HeldLease = { ...a, validUntil };
      this.held.set(a.camera, lease);
      void this.emit('acquired', [a.camera, publicLease(lease)]);
    }
    if (tooLate.length > 0) this.bestEffortRelease(tooLate);
    if (got.length > 0) this.log.info({ acquired: got.length, held: this.held.size, share }, 'cameras acquired');
  }

  /** On purpose: stop renewing, let the camera stop (bounded wait), then compare-and-delete so the next holder can start. */
  private releaseGracefully(lease: HeldLease): void {
    this.held.delete(lease.camera);
    this.releasing.add(lease.camera);
    const task = (async () => {
      // Never wait past the lease's own deadline: after that, not deleting changes nothing.
      const wait = Math.max(0, Math.min(this.releaseWaitMs, lease.validUntil - performance.now()));
      const r = await withTimeout(this.emit('released', [lease.camera, publicLease(lease)]), wait);
      if (r === TIMEOUT) this.log.warn({ camera: lease.camera, waitMs: wait }, 'released listener still running; deleting the lease anyway');
      await releaseLeases(this.redis, this.keys, [lease]);
    })()
      .catch((err: unknown) => this.log.warn({ err, camera: lease.camera }, 'could not delete released lease; it expires by TTL'))
      .finally(() => {
        this.releasing.delete(lease.camera);
        this.pending.delete(task);
      });
    this.pending.add(task);
  }

  /** Returns true when it was ours and is now dropped. */
  private lose(lease: HeldLease, reason: LeaseLostReason): boolean {
    if (this.held.get(lease.camera)?.token !== lease.token) return false;
    this.held.delete(lease.camera);
    this.log.warn({ camera: lease.camera, epoch: lease.epoch, reason }, 'camera lease lost; stopping the camera here');
    void this.emit('lost', [lease.camera, publicLease(lease), reason]);
    return true;
  }

  private bestEffortRelease(leases: readonly HeldToken[]): void {
    if (this.redis.status === 'end') return;
    const task = releaseLeases(this.redis, this.keys, leases)
      .catch((err: unknown) => this.log.debug({ err }, 'best-effort lease release failed; it expires by TTL'))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  /** One timer at the earliest local deadline, independent of the heartbeat: a hung Redis call cannot delay the stop of a camera. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.stopped || this.held.size === 0) return;
    let first = Number.POSITIVE_INFINITY;
    for (const l of this.held.values()) if (!l.unconfirmed) first = Math.min(first, l.validUntil);
    if (!Number.isFinite(first)) return;
    this.expiryTimer = setTimeout(() => this.checkExpiry(), Math.max(0, first - performance.now()));
    this.expiryTimer.unref();
  }

  /**
   * A live peer renews its registry entry every heartbeat, so its entry never
   * gets closer than ttl - heartbeat to expiry and this timer is replaced at our
   * next beat before it fires. It fires only when a peer missed its beats: then
   * we beat just after its entry (and, by construction, its leases) expired, and
   * take its cameras over at ttl + a few ms instead of up to ttl + heartbeat.
   */
  private watchPeers(nextPeerExpiryMs: number | undefined): void {
    if (this.peerTimer) clearTimeout(this.peerTimer);
    this.peerTimer = undefined;
    if (this.stopped || nextPeerExpiryMs === undefined) return;
    const delay = Math.max(0, nextPeerExpiryMs) + PEER_EXPIRY_MARGIN_MS;
    if (delay >= this.heartbeatMs) return;
    this.peerTimer = setTimeout(() => {
      this.peerTimer = undefined;
      this.tick(true);
    }, delay);
    this.peerTimer.unref();
  }

  private checkExpiry(): void {
    this.expiryTimer = undefined;
    const now = performance.now();
    if (this.keepThroughOutage) {
      const kept = [...this.held.values()].filter((l) => l.validUntil <= now && !l.unconfirmed);
      for (const l of kept) l.unconfirmed = true;
      if (kept.length > 0) this.log.debug({ cameras: kept.map((l) => l.camera) }, 'leases past their deadline without Redis: kept running until a heartbeat reaches Redis');
      this.armExpiry();
      return;
    }
    const dropped = [...this.held.values()].filter((l) => l.validUntil <= now && this.lose(l, 'expired'));
    // If a key is in fact still ours (a renewal we could not confirm), free it as soon as Redis answers rather than after the TTL.
    if (dropped.length > 0) this.bestEffortRelease(dropped);
    this.armExpiry();
  }

  private trouble(reason: string): void {
    if (this.redisTrouble === undefined && this.keepThroughOutage) {
      this.log.debug({ reason, held: this.held.size }, 'lease heartbeat cannot reach Redis; cameras keep running');
    } else if (this.redisTrouble === undefined) {
      const soonest = Math.min(...[...this.held.values()].map((l) => l.validUntil - performance.now()));
      this.log.warn(
        { reason, held: this.held.size, stopsInMs: Number.isFinite(soonest) ? Math.max(0, Math.round(soonest)) : undefined },
        'lease heartbeat cannot reach Redis; cameras stop when their leases run out unless it comes back',
      );
    }
    this.redisTrouble = reason;
  }

  private async emit<K extends EventName>(event: K, args: Parameters<CameraLeaseEvents[K]>): Promise<void> {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    const waits: Promise<void>[] = [];
    for (const listener of set) {
      try {
        const r = (listener as (...a: unknown[]) => unknown)(...args);
        if (r && typeof (r as Promise<void>).then === 'function') {
          waits.push(
            (r as Promise<void>).catch((err: unknown) => this.log.error({ err, event, camera: args[0] }, 'lease listener failed')),
          );
        }
      } catch (err) {
        this.log.error({ err, event, camera: args[0] }, 'lease listener failed');
      }
    }
    await Promise.all(waits);
  }
}

function publicLease(l: CameraLease): CameraLease {
  return { camera: l.camera, epoch: l.epoch, token: l.token };
}

const TIMEOUT = Symbol('timeout');

/** Beat this long after a silent peer's registry entry ran out, so its leases (same expiry instant) are gone too. */
const PEER_EXPIRY_MARGIN_MS = 50;

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
