export * from './types.js';
export {
  ZoneEngine,
  CARGO_CLASSES,
  crossingKind,
  DEFAULT_ZONE_CLASSES,
  type ZoneEngineOptions,
  type FrameSize,
  type ZoneOccupancy,
  type TripwireCount,
} from './zone-engine.js';
export { bottomCentre } from './geometry.js';
export { pointInPolygon, cross, sideOf, onSegment, segmentsIntersect } from '../geometry/index.js';
export { compileSchedule, isArmed, localTime, parseClock, scheduleArmed, assertTimeZone, type CompiledWindow, type LocalTime } from './schedule.js';
