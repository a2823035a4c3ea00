export { openWorkerContext, type OpenWorkerContext, type RunningWorker, type WorkerContext, type WorkerContextOptions, type WorkerKind, type WorkerOptions } from './worker-context.js';
export { startRuntime, type Runtime, type RuntimeOptions, type StopReport } from './runtime.js';
export { WORKER_KINDS, workerKind } from './kinds.js';
export { workersSettingsSchema, healthThresholds, HEALTH_SETTING_KEYS, type WorkersSettings } from './settings.js';
export { childPids, killChildren, procStat, processCpuSeconds, processName, processRunning } from './child-processes.js';
