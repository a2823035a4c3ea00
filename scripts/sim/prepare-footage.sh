#!/bin/sh
# Transcodes OpenCV's vtest.avi (Debian package opencv-doc) into the H.264 clips
# the RTSP simulator serves and the tests read. The results are committed under
# test/fixtures/video/, so this only needs to run again to change them.
#
#   scripts/sim/prepare-footage.sh [OUT_DIR] [--force]
#   scripts/sim/prepare-footage.sh --camera-streams [OUT_DIR] [--force]
#
# --camera-streams writes, instead, what a real IP camera sends, for the camera
# benchmark (default OUT_DIR data/footage/, gitignored: ~25 MB, never committed):
#   vtest-main-1280x720.mp4   main stream: 1280x720, 25 fps, GOP 1 s, ~2 Mbit/s
#   vtest-sub-640x360.mp4     sub-stream:  640x360, 10 fps, GOP 1 s, ~0.5 Mbit/s
#   still-main-1280x720.mp4, still-sub-640x360.mp4   the first frame held (an empty scene)
# vtest is 768x576 at 10 fps: the 16:9 streams take its middle 768x432 (people
# keep their shape); the 25 fps main stream blends neighbouring frames
# (framerate filter) so every frame differs, as on a real camera; duplicated
# frames would decode almost for free and flatter the naive pipeline.
#
# Why these settings: 640x480 keeps vtest's 4:3 picture undistorted at a size
# the detector can use; 10 fps is the source rate; a keyframe every 10 frames
# (1 s, no scene-cut keyframes, no B-frames) lets ingest decode keyframes only at
# 1 analysed frame/s, as real cameras with a 1 s GOP allow; CRF 35 keeps the full
# 79.5 s clip near 2 MB.
set -eu

OUT=
FORCE=0
STREAMS=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --camera-streams) STREAMS=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) OUT=$arg ;;
  esac
done
if [ -z "$OUT" ]; then
  if [ "$STREAMS" = 1 ]; then OUT=data/footage; else OUT=test/fixtures/video; fi
fi

SRC=${VTEST_AVI:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}
if [ ! -f "$SRC" ]; then
  echo "prepare-footage: $SRC not found; install it with: apt-get install opencv-doc (or set VTEST_AVI)" >&2
  exit 1
fi
command -v ffmpeg >/dev/null || { echo "prepare-footage: ffmpeg not found; install it with: apt-get install ffmpeg" >&2; exit 1; }

mkdir -p "$OUT"
X264="-c:v libx264 -preset medium -profile:v main -bf 0 -g 10 -keyint_min 10 -sc_threshold 0 -pix_fmt yuv420p -movflags +faststart"

clip() { # name, then ffmpeg input/filter arguments
  name=$1; shift
  if [ "$FORCE" = 0 ] && [ -s "$OUT/$name" ]; then echo "prepare-footage: $OUT/$name exists"; return; fi
  # shellcheck disable=SC2086
  ffmpeg -hide_banner -loglevel error -nostdin -y "$@" -an $X264 "$OUT/$name.tmp.mp4"
  mv "$OUT/$name.tmp.mp4" "$OUT/$name"
  echo "prepare-footage: wrote $OUT/$name ($(wc -c < "$OUT/$name") bytes)"
}

if [ "$STREAMS" = 1 ]; then
  # Hardware encoders in IP cameras: no B-frames, one reference, fixed GOP, capped bitrate.
  CAM="-c:v libx264 -preset veryfast -profile:v main -bf 0 -refs 1 -sc_threshold 0 -pix_fmt yuv420p -movflags +faststart"
  CROP="crop=768:432:0:72"
  # shellcheck disable=SC2086
  X264="$CAM -g 25 -keyint_min 25 -b:v 2M -maxrate 2M -bufsize 2M"
  clip vtest-main-1280x720.mp4 -i "$SRC" -vf "$CROP,scale=1280:720,framerate=fps=25" -r 25
  clip still-main-1280x720.mp4 -i "$SRC" -vf "select=eq(n\,0),$CROP,scale=1280:720,loop=loop=-1:size=1,trim=duration=4,setpts=N/25/TB" -r 25
  X264="$CAM -g 10 -keyint_min 10 -b:v 512k -maxrate 512k -bufsize 512k"
  clip vtest-sub-640x360.mp4 -i "$SRC" -vf "$CROP,scale=640:360" -r 10
  clip still-sub-640x360.mp4 -i "$SRC" -vf "select=eq(n\,0),$CROP,scale=640:360,loop=loop=-1:size=1,trim=duration=4,setpts=N/10/TB" -r 10
  exit 0
fi

# People walking across a square: the motion, detection and zone footage.
clip vtest-640x480.mp4 -i "$SRC" -vf scale=640:480 -r 10 -crf 35
# The first frame held for 4 s: a frozen camera (every decoded frame identical).
clip still-640x480.mp4 -i "$SRC" -vf "select=eq(n\,0),scale=640:480,loop=loop=-1:size=1,trim=duration=4,setpts=N/10/TB" -r 10 -crf 30
# Black frames: a covered lens or a dead sensor.
clip black-640x480.mp4 -f lavfi -i color=c=black:s=640x480:r=10:d=4 -crf 30
