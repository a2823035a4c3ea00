export {
  CameraHealthMonitor,
  DEFAULT_HEALTH_THRESHOLDS,
  type CameraFault,
  type CameraHealthRecord,
  type CameraState,
  type HealthThresholds,
} from './monitor.js';
export { pictureStats, pictureChange, downscale, edgeMap, nccAt, bestShift, bestShiftCoarseFine, halve, type PictureStats } from './picture.js';
