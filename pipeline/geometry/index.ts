export { iou, bufferedIou, coverage, isValidBox } from './box.js';
export { pointInPolygon, cross, sideOf, onSegment, segmentsIntersect, type Point } from './polygon.js';
