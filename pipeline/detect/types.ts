import type { Box } from '../events/types.js';

/** One object a detector saw in one image, in that image's source pixels. */
export interface Detection {
  /** COCO-style label from the model manifest, e.g. "person", "truck", "boat". */
  class: string;
  score: number;
  box: Box;
}
