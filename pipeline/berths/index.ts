export { distanceMetres, impliedKnots, METRES_PER_NAUTICAL_MILE, type LatLon } from './geo.js';
export { pointInPolygon } from '../geometry/index.js';
export {
  BerthOccupancy,
  type BerthArea,
  type BerthAssignment,
  type BerthOccupancyOptions,
  type BerthVisit,
  type OccupancyUpdate,
  type VesselPosition,
} from './occupancy.js';
