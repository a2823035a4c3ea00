/**
 * The little of SDP (RFC 4566) an RTSP client needs to play one video track:
 * which media is video, its payload type and codec, its control URL and, for
 * H.264, the SPS/PPS a decoder needs before the first keyframe arrives.
 */

export interface RtspVideoTrack {
  /** From a=rtpmap, upper-case: 'H264', 'H265', ... */
  codec: string;
  payloadType: number;
  clockRate: number;
  /** Absolute URL to SETUP this track with. */
  control: string;
  /** a=fmtp parameters; names lower-case (they are case-insensitive). */
  fmtp: Record<string, string>;
  /** H.264: the NAL units of sprop-parameter-sets, raw (no start codes); [] otherwise. */
  parameterSets: Buffer[];
}

export interface SdpMedia {
  /** The m= line's media type: 'video', 'audio', 'application', ... */
  type: string;
  /** Payload types as listed on the m= line, in the sender's order of preference. */
  formats: number[];
  control: string | null;
  rtpmap: Map<number, { codec: string; clockRate: number }>;
  fmtp: Map<number, Record<string, string>>;
}

export interface SessionDescription {
  /** Session-level a=control: the aggregate URL PLAY and keep-alives go to. */
  control: string | null;
  media: SdpMedia[];
}

/** RFC 3551's static video payload types: these need no a=rtpmap. */
const STATIC_VIDEO: Record<number, string> = { 26: 'JPEG', 31: 'H261', 32: 'MPV', 33: 'MP2T', 34: 'H263' };

export function parseSdp(text: string): SessionDescription {
  const sdp: SessionDescription = { control: null, media: [] };
  let media: SdpMedia | null = null;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const value = line.slice(2);
    if (line[0] === 'm') {
      const [type = '', , , ...formats] = value.split(/\s+/);
      media = {
        type: type.toLowerCase(),
        formats: formats.map(Number).filter((n) => Number.isInteger(n)),
        control: null,
        rtpmap: new Map(),
        fmtp: new Map(),
      };
      sdp.media.push(media);
      continue;
    }
    if (line[0] !== 'a') continue;
    const colon = value.indexOf(':');
    const name = (colon < 0 ? value : value.slice(0, colon)).toLowerCase();
    const arg = colon < 0 ? '' : value.slice(colon + 1).trim();
    if (name === 'control') {
      if (media) media.control = arg;
      else sdp.control = arg;
    } else if (name === 'rtpmap' && media) {
      const m = /^(\d+)\s+([^/\s]+)\/(\d+)/.exec(arg);
      if (m) media.rtpmap.set(Number(m[1]), { codec: m[2]!.toUpperCase(), clockRate: Number(m[3]) });
    } else if (name === 'fmtp' && media) {
      const m = /^(\d+)\s*(.*)$/.exec(arg);
      if (m) media.fmtp.set(Number(m[1]), parseFmtp(m[2]!));
    }
  }
  return sdp;
}

/** `packetization-mode=1; sprop-parameter-sets=Z0IA...==,aM4...` → name → value (values keep their '=' padding). */
export function parseFmtp(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name) out[name] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return out;
}

/** sprop-parameter-sets: base64 NAL units, comma separated (RFC 6184 §8.1). */
export function decodeParameterSets(value: string): Buffer[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Buffer.from(s, 'base64'))
    .filter((b) => b.length > 0);
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

export function isAbsoluteUrl(url: string): boolean {
  return ABSOLUTE.test(url);
}

/**
 * Resolves an a=control value against a base URL. A relative control is
 * appended to the base with one '/' between them, not resolved the RFC 3986
 * way: that is what ffmpeg, GStreamer and live555 do, and cameras answer
 * `Content-Base: rtsp://cam/ch1` + `a=control:trackID=1` expecting
 * `rtsp://cam/ch1/trackID=1` (RFC 3986 would drop `ch1`).
 */
export function resolveControl(control: string | null | undefined, base: string): string {
  if (!control || control === '*') return base;
  if (isAbsoluteUrl(control)) return control;
  if (control.startsWith('/')) {
    try {
      const u = new URL(base);
      return `${u.protocol}//${u.host}${control}`;
    } catch {
      return control;
    }
  }
  return base.endsWith('/') ? base + control : `${base}/${control}`;
}

/** The URL for PLAY, keep-alives and TEARDOWN: the session-level control, else the base itself. */
export function aggregateControl(sdp: SessionDescription, base: string): string {
  return resolveControl(sdp.control, base);
}

/**
 * The first video media (a camera's SDP may list audio or ONVIF metadata
 * first), described with its first payload type. Null when there is no video
 * or its codec cannot be told (a dynamic payload type without a=rtpmap).
 */
export function videoTrack(sdp: SessionDescription, base: string): RtspVideoTrack | null {
  const media = sdp.media.find((m) => m.type === 'video');
  const payloadType = media?.formats[0];
  if (!media || payloadType === undefined) return null;
  const map = media.rtpmap.get(payloadType);
  const codec = map?.codec ?? STATIC_VIDEO[payloadType];
  if (!codec) return null;
  const fmtp = media.fmtp.get(payloadType) ?? {};
  const sprop = fmtp['sprop-parameter-sets'];
  return {
    codec,
    payloadType,
    clockRate: map?.clockRate ?? 90_000,
    // Media controls are relative to the aggregate one when the session has it (ffmpeg and GStreamer agree).
    control: resolveControl(media.control, aggregateControl(sdp, base)),
    fmtp,
    parameterSets: codec === 'H264' && sprop ? decodeParameterSets(sprop) : [],
  };
}
