export { distanceMetres, insidePolygon, impliedKnots, METRES_PER_NAUTICAL_MILE, type LatLon } from './geo.js';
export {
  BerthOccupancy,
  type BerthArea,
  type BerthAssignment,
  type BerthOccupancyOptions,
  type BerthVisit,
  type OccupancyUpdate,
  type VesselPosition,
} from './occupancy.js';
