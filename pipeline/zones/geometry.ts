import type { Box } from '../events/types.js';
import type { Point } from './types.js';

/**
 * The point a zone is tested on: the middle of the box's bottom edge, in
 * normalised image coordinates. That is where the object touches the ground,
 * so a person walking past in front of a restricted gate (whose box overlaps
 * the gate's polygon on screen) is not inside it, and a tall truck whose roof
 * reaches over the zone from the road is not either.
 */
export function bottomCentre(box: Box, frame: { width: number; height: number }): Point {
  return [(box[0] + box[2]) / 2 / frame.width, box[3] / frame.height];
}
