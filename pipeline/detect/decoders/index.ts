import type { ManifestOutput } from '../manifest.js';
import { centernetDecoder } from './centernet.js';
import type { Decoder } from './common.js';
import { nanodetDecoder } from './nanodet.js';
import { ssdDecoder } from './ssd.js';
import { yoloDecoder } from './yolo.js';

export { centernetDecoder } from './centernet.js';
export { nanodetDecoder } from './nanodet.js';
export { ssdDecoder } from './ssd.js';
export { yoloDecoder } from './yolo.js';
export { DecodeError, type DecodeContext, type Decoder, type OutputTensor, type OutputTensors, type BoxFormat } from './common.js';

/** The decoder a manifest's `output` section asks for. */
export function decoderFor(out: ManifestOutput): Decoder {
  switch (out.decoder) {
    case 'centernet':
      return centernetDecoder({ name: out.names[0]!, classIndexBase: out.class_index_base });
    case 'nanodet':
      return nanodetDecoder({ names: out.names, strides: out.strides, regMax: out.reg_max, centerOffset: out.center_offset });
    case 'yolov5':
    case 'yolov8':
      return yoloDecoder({ name: out.names[0]!, version: out.decoder, boxFormat: out.box_format, normalized: out.normalized });
    case 'ssd':
      return ssdDecoder({ names: out.names, boxFormat: out.box_format, normalized: out.normalized, classIndexBase: out.class_index_base });
  }
}
