export { Tracker, median } from './tracker.js';
export {
  DEFAULT_TRACKER_SETTINGS,
  type Track,
  type TrackState,
  type TrackerSettings,
  type TrackerStats,
  type TrackerUpdateOptions,
} from './types.js';
export {
  BoxKalmanFilter,
  DEFAULT_KALMAN_SETTINGS,
  boxToMeasurement,
  measurementToBox,
  type KalmanSettings,
  type KalmanState,
} from './kalman.js';
export { assign, type Assignment } from './assignment.js';
export { iou, bufferedIou, coverage, isValidBox } from '../geometry/index.js';
export { colourHistogram, histogramSimilarity, blendHistogram, sameObject, HISTOGRAM_BINS, type AppearanceImage, type ObjectEvidence } from './appearance.js';
