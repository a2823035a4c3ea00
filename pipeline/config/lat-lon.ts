import { z } from 'zod';
import { polygonProblem } from './geometry.js';

/**
 * Geographic points and polygons as the site file writes them ([lat, lon] in
 * decimal degrees). A module of its own because two sections use them: berths
 * (schema.ts) and the AIS section (pipeline/ais-ingest/settings.ts), which the
 * site schema imports; keeping them here avoids an import cycle.
 */
const latitude = z.number().min(-90, 'latitude runs from -90 to 90 (points are [lat, lon])').max(90, 'latitude runs from -90 to 90 (points are [lat, lon])');
const longitude = z.number().min(-180, 'longitude runs from -180 to 180 (points are [lat, lon])').max(180, 'longitude runs from -180 to 180 (points are [lat, lon])');

export const latLonSchema = z.tuple([latitude, longitude], { error: 'a position is [lat, lon] in decimal degrees' });

/** At least 3 [lat, lon] points forming a simple (not self-crossing) polygon. */
export const latLonPolygonSchema = z
  .array(latLonSchema)
  .min(3, 'a polygon needs at least 3 points')
  .superRefine((points, ctx) => {
    if (points.length < 3) return; // already reported by min(3)
    const problem = polygonProblem(points);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
