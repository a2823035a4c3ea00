import type { Logger } from '../log/index.js';
import type { CameraRunnerStats } from './types.js';

/** What the supervisor needs from a runner (CameraRunner fits). */
export interface SupervisedRunner {
  start(): void;
  stop(): Promise<void>;
  stats(): CameraRunnerStats;
}

/** The lease events the supervisor listens to (CameraLeaseManager fits). */
export interface LeaseSource {
  on(event: 'acquired', listener: (camera: string, lease: { epoch: number }) => void | Promise<void>): unknown;
  on(event: 'released', listener: (camera: string) => void | Promise<void>): unknown;
  on(event: 'lost', listener: (camera: string, lease: unknown, reason: string) => void | Promise<void>): unknown;
}

export interface CameraSupervisorOptions {
  /** Builds the runner of one camera for one lease (the epoch goes into its events). Throw for an unknown camera. */
  createRunner(camera: string, leaseEpoch: number | null): SupervisedRunner;
  logger: Logger;
}

interface Slot {
  runner: SupervisedRunner | null;
  /** Start/stop operations of this camera run one after another. */
  chain: Promise<void>;
  epoch: number | null;
}

/** The runner counters that add up across cameras and across a camera's successive runners. */
export const RUNNER_COUNTERS = ['frames', 'dropped', 'detectorRuns', 'cropRuns', 'detectorDropped', 'detectorErrors', 'events', 'backpressureDrops', 'sinkWaitMs'] as const;
export type RunnerCounter = (typeof RUNNER_COUNTERS)[number];

/**
 * Starts and stops camera runners as leases come and go. Idempotent and
 * ordered per camera: a stop issued while a start is queued cancels it, a
 * re-acquired camera waits for its previous runner to have stopped (so two
 * runners of one camera never overlap inside one process).
 */
export class CameraSupervisor {
  private readonly slots = new Map<string, Slot>();
  private readonly log: Logger;

  constructor(private readonly o: CameraSupervisorOptions) {
    this.log = o.logger.child({ stage: 'camera-supervisor' });
  }

  /** Wires `acquired` → start, `released` → stop (awaited by the lease manager), `lost` → stop. */
  attach(leases: LeaseSource): this {
    leases.on('acquired', (camera, lease) => {
      void this.start(camera, lease.epoch);
    });
    leases.on('released', (camera) => this.stop(camera, 'released'));
    leases.on('lost', (camera, _lease, reason) => {
      void this.stop(camera, `lost (${reason})`);
    });
    return this;
  }

  start(camera: string, leaseEpoch: number | null = null): Promise<void> {
    const slot = this.slot(camera);
    slot.epoch = leaseEpoch;
    slot.chain = slot.chain.then(async () => {
      if (slot.epoch !== leaseEpoch) return; // superseded by a later start or a stop
      if (slot.runner) return;
      try {
        const runner = this.o.createRunner(camera, leaseEpoch);
        runner.start();
        slot.runner = runner;
        this.log.info({ camera, leaseEpoch }, 'camera started');
      } catch (err) {
        this.log.error({ err, camera }, 'camera could not be started');
      }
    });
    return slot.chain;
  }

  stop(camera: string, why = 'stopped'): Promise<void> {
    const slot = this.slots.get(camera);
    if (!slot) return Promise.resolve();
    slot.epoch = -1; // cancels a queued start
    slot.chain = slot.chain.then(async () => {
      const runner = slot.runner;
      slot.runner = null;
      if (!runner) return;
      try {
        await runner.stop();
        this.retire(runner.stats());
        this.log.info({ camera, why }, 'camera stopped');
      } catch (err) {
        this.log.error({ err, camera }, 'camera did not stop cleanly');
      }
    });
    return slot.chain;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((c) => this.stop(c, 'shutdown')));
  }

  running(): string[] {
    return [...this.slots].filter(([, s]) => s.runner).map(([c]) => c).sort();
  }

  stats(): CameraRunnerStats[] {
    return [...this.slots.values()].flatMap((s) => (s.runner ? [s.runner.stats()] : []));
  }

  /** The counters summed over every runner this process ran, stopped ones included (a summary at exit). */
  totals(): Record<RunnerCounter, number> {
    const t = { ...this.retired };
    for (const r of this.stats()) for (const k of RUNNER_COUNTERS) t[k] += r[k];
    return t;
  }

  private readonly retired = Object.fromEntries(RUNNER_COUNTERS.map((k) => [k, 0])) as Record<RunnerCounter, number>;

  private retire(s: CameraRunnerStats): void {
    for (const k of RUNNER_COUNTERS) this.retired[k] += s[k];
  }

  private slot(camera: string): Slot {
    let s = this.slots.get(camera);
    if (!s) this.slots.set(camera, (s = { runner: null, chain: Promise.resolve(), epoch: null }));
    return s;
  }
}
