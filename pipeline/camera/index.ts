export { CameraAnalyser, motionGrid, detectClasses, watchArea, type CameraAnalyserOptions, type AnalyserFrame, type AnalyserResult, type AnalyserCounters } from './analyser.js';
export { planDetection, unionBox, type DetectPlan, type DetectPlanOptions } from './detect-plan.js';
export { CameraRunner, type CameraRunnerOptions } from './runner.js';
export { CameraSupervisor, type CameraSupervisorOptions, type SupervisedRunner, type LeaseSource } from './supervisor.js';
export { analyzeClip, type AnalyzeClipOptions, type ClipEvent } from './analyze-clip.js';
export type { CameraDetector, CameraSpec, CameraSinks, DetectionBatch, CameraRunnerStats } from './types.js';
export { DetectorPool } from './detector-pool.js';
export { startCameraService, type CameraService, type CameraServiceOptions, type CameraServiceStats, type EventPublisher } from './service.js';
export { ThreadedDetector } from './threaded-detector.js';
