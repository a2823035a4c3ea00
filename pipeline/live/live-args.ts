import { chooseStream, type CameraStreams } from '../video/ffmpeg-args.js';

export interface LiveArgsOptions {
  streams: CameraStreams;
  /** Watch the sub-stream instead of the main one (a small tile, a slow link). */
  sub?: boolean;
  /** Socket I/O timeout. Default 10 s. */
  timeoutMs?: number;
}

/**
 * ffmpeg for a live view: the camera's H.264 copied, never decoded, into
 * fragmented MP4 on stdout. `empty_moov` puts the codec setup in a header of
 * its own (the init segment a late viewer is sent first); `frag_keyframe`
 * starts every fragment at a keyframe, so a viewer can join at any fragment;
 * `default_base_moof` is what Media Source Extensions expect of fragments.
 */
export function buildLiveArgs(o: LiveArgsOptions): { args: string[]; url: string } {
  const { url } = chooseStream(o.streams, !o.sub);
  if (!url) throw new RangeError('camera has no stream URL');
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
  if (/^rtsps?:/i.test(url)) args.push('-rtsp_transport', 'tcp', '-timeout', String(Math.round((o.timeoutMs ?? 10_000) * 1000)));
  args.push('-analyzeduration', '1000000', '-probesize', '1000000', '-i', url);
  args.push('-map', '0:v:0', '-an', '-sn', '-dn', '-c:v', 'copy');
  args.push('-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1');
  return { args, url };
}
