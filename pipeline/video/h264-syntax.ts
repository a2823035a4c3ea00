/**
 * The few H.264 syntax elements the clip writer needs: the picture size from
 * a sequence parameter set and the slice type from a slice header (ITU-T
 * H.264 7.3.2.1.1 and 7.3.3). Input is one NAL unit without its start code.
 */

/** The NAL unit's payload with emulation prevention bytes (0x000003 → 0x0000) removed. */
function rbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Exp-Golomb bit reader; throws a RangeError past the end (a truncated NAL unit). */
class BitReader {
  private bit = 0;

  constructor(private readonly bytes: Uint8Array) {}

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.bit >> 3];
      if (byte === undefined) throw new RangeError('H.264: NAL unit ends inside a syntax element');
      v = v * 2 + ((byte >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('H.264: exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

/** Profiles whose SPS carries chroma format, bit depths and scaling matrices. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

export interface SpsInfo {
  profile: number;
  /** constraint_set flags byte. */
  compatibility: number;
  level: number;
  /** The picture as displayed (after the SPS's cropping). */
  width: number;
  height: number;
}

/** Reads a sequence parameter set (NAL type 7). Throws a RangeError on a truncated or impossible one. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if ((nal[0]! & 0x1f) !== 7) throw new RangeError(`H.264: NAL type ${nal[0]! & 0x1f} is not an SPS`);
  const data = rbsp(nal);
  const r = new BitReader(data);
  const profile = r.u(8);
  const compatibility = r.u(8);
  const level = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  let separateColourPlanes = 0;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) separateColourPlanes = r.u(1);
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) {
        if (!r.u(1)) continue;
        // scaling_list(): deltas until the list ends or repeats its last value
        let last = 8;
        let next = 8;
        for (let j = 0; j < (i < 6 ? 16 : 64) && next !== 0; j++) {
          next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
  r.u(1); // direct_8x8_inference_flag
  let width = widthMbs * 16;
  let height = (2 - frameMbsOnly) * heightMapUnits * 16;
  if (r.u(1)) {
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const chromaArrayType = separateColourPlanes ? 0 : chromaFormat;
    const unitX = chromaArrayType === 0 || chromaArrayType === 3 ? 1 : 2;
    const unitY = (chromaArrayType === 1 ? 2 : 1) * (2 - frameMbsOnly);
    width -= (left + right) * unitX;
    height -= (top + bottom) * unitY;
  }
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) throw new RangeError(`H.264: SPS gives an impossible picture size ${width}×${height}`);
  return { profile, compatibility, level, width, height };
}

/** The slice_type of a coded slice (NAL types 1 and 5) modulo 5: 0 P, 1 B, 2 I, 3 SP, 4 SI. */
export function sliceType(nal: Uint8Array): number {
  const r = new BitReader(rbsp(nal.subarray(0, Math.min(nal.length, 32))));
  r.ue(); // first_mb_in_slice
  return r.ue() % 5;
}
