import type { ZoneSpec } from '../../pipeline/zones/index.js';

/**
 * The restricted zone over the west end of vtest's footpath (the same as
 * test/fixtures/sites/vtest.yaml's): three people walk into it in the clip.
 */
export const WEST_PATH: ZoneSpec = { id: 'west-path', kind: 'restricted', polygon: [[0, 0.33], [0.28, 0.33], [0.28, 0.5], [0, 0.5]], classes: ['person'], min_dwell_seconds: 1 };
