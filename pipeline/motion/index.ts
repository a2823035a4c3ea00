export { MotionDetector, type MotionOptions, type MotionResult } from './motion-detector.js';
export { DetectGate, type DetectGateOptions, type GateReason } from './gate.js';
export { rasterizeMask } from './mask.js';
export { componentBoxes, padAndMerge, type GridBox } from './regions.js';
