/**
 * What an MP4 init segment needs from an H.264 sequence parameter set (ITU-T
 * H.264 §7.3.2.1.1): profile, compatibility and level for the avcC box and the
 * codec string, chroma format and bit depths for a high profile's avcC, and the
 * picture size (cropped) for the track and sample entry.
 */
export interface SpsInfo {
  profile: number;
  compatibility: number;
  level: number;
  chromaFormat: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  width: number;
  height: number;
}

/** Profiles whose SPS carries chroma format, bit depths and scaling matrices. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

/** Reads the bits of an RBSP (emulation prevention bytes removed) MSB first, with Exp-Golomb codes. */
class BitReader {
  private bit = 0;
  constructor(private readonly b: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bit >> 3;
      if (byte >= this.b.length) throw new RangeError('H.264 SPS: truncated');
      v = v * 2 + ((this.b[byte]! >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError('H.264 SPS: bad Exp-Golomb code');
    return 2 ** zeros - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -k / 2;
  }
}

/** The NAL unit's payload without its header byte and emulation prevention bytes (00 00 03 → 00 00). */
function rbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (let i = 1; i < nal.length; i++) {
    const x = nal[i]!;
    if (zeros >= 2 && x === 3) {
      zeros = 0;
      continue;
    }
    zeros = x === 0 ? zeros + 1 : 0;
    out[n++] = x;
  }
  return out.subarray(0, n);
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (header byte included, no start code). Throws a RangeError saying what is wrong. */
export function parseSps(nal: Uint8Array): SpsInfo {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new RangeError('H.264 SPS: not an SPS NAL unit');
  const r = new BitReader(rbsp(nal));
  const profile = r.u(8);
  const compatibility = r.u(8);
  const level = r.u(8);
  r.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  let separateColourPlanes = 0;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat > 3) throw new RangeError(`H.264 SPS: chroma_format_idc ${chromaFormat}`);
    if (chromaFormat === 3) separateColourPlanes = r.u(1);
    bitDepthLuma = 8 + r.ue();
    bitDepthChroma = 8 + r.ue();
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
  }
  r.ue(); // log2_max_frame_num_minus4
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const cycle = r.ue();
    if (cycle > 255) throw new RangeError(`H.264 SPS: num_ref_frames_in_pic_order_cnt_cycle ${cycle}`);
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
    width -= unitX * (left + right);
    height -= unitY * (top + bottom);
  }
  if (width <= 0 || height <= 0) throw new RangeError(`H.264 SPS: picture size ${width}×${height}`);
  return { profile, compatibility, level, chromaFormat, bitDepthLuma, bitDepthChroma, width, height };
}
