#!/usr/bin/python3
"""Simulated RTSP cameras on loopback, for tests and the camera benchmark.

Run it with Debian's python3 (it sees python3-gi; the pyenv python3 first on
PATH does not):

    /usr/bin/python3 scripts/sim/rtsp-server.py --port 8554 [--cams 60]

Mounts (all H.264, RTP over RTSP; clients may use TCP or UDP):
    /vtest         test/fixtures/video/vtest-640x480.mp4, looping (people walking)
    /frozen        a still picture as video (a frozen camera)
    /black         black frames (a covered or dead camera)
    /cam/001 ...   /vtest again, --cams times, one path per simulated camera
    --mount /dock-001=vtest   any extra path serving one of the clips above (the demo
                              names its cameras' paths after the site's camera ids)
    --mount /c7=vtest@23.5    the same, starting 23.5 s into the clip (at the keyframe
                              at or before it), then looping as always
    --cam-start random --seed 1
                              each /cam/NNN starts at its own point of the vtest loop,
                              uniformly at random (seeded): independent scenes, as a
                              port's cameras are. Default `clip-start`: every camera
                              plays the clip from its start when a client connects, so
                              cameras connected together show the same moment
    --clip hd=FILE.mp4        one more clip (any H.264 MP4) under a name --mount can
                              use; the camera benchmark serves the HD main streams and
                              sub-streams of scripts/sim/prepare-footage.sh --camera-streams

With --user and --password every mount requires RTSP basic auth (401 otherwise);
add --digest to challenge with Digest (MD5, no qop) instead of Basic.

The clips are parsed once into access units kept in memory; each client's
pipeline pushes them through an appsrc at the clip's frame rate, from the
mount's start (a keyframe, so a decoder gets a picture at once), looping with
timestamps that keep increasing. Nothing is decoded or re-encoded, so one
server carries many cameras for the price of a few memcpy's per frame.

Prints one line `READY port=N mounts=...` on stdout once it accepts
connections, preceded by `STARTS /path=seconds ...` when a mount does not start
at 0 (the keyframe times actually used); exits cleanly on SIGTERM/SIGINT.
"""
import argparse
import math
import os
import random
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MEDIA = os.path.join(ROOT, "test", "fixtures", "video")
H264_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"
H265_CAPS = "video/x-h265,stream-format=byte-stream,alignment=au"
# codec -> (parser, caps, RTP payloader); H.265 for cameras that send it (no on-demand decoding there).
CODECS = {"h264": ("h264parse", H264_CAPS, "rtph264pay"), "h265": ("h265parse", H265_CAPS, "rtph265pay")}


class Clip:
    """A file's H.264 (or H.265) access units in memory, demuxed once at start."""

    def __init__(self, path):
        self.path = path
        for codec in CODECS:
            self.codec = codec
            self._load(path, *CODECS[codec][:2])
            if self.units:
                break
        if not self.units:
            raise SystemExit(f"rtsp-server: no H.264 or H.265 video in {path}; run scripts/sim/prepare-footage.sh")

    def _load(self, path, parser, caps):
        pipeline = Gst.parse_launch(
            f'filesrc location="{path}" ! qtdemux ! {parser} config-interval=-1 ! {caps} ! appsink name=out sync=false'
        )
        sink = pipeline.get_by_name("out")
        pipeline.set_state(Gst.State.PLAYING)
        self.units = []  # bytes per access unit
        self.keyframes = []  # indices of the units a decoder can start from
        fps = None
        while True:
            # try-: a file of the other codec fails to link and would block pull-sample for good.
            sample = sink.emit("try-pull-sample", 2 * Gst.SECOND)
            if sample is None:
                break
            if fps is None:
                caps = sample.get_caps().get_structure(0)
                ok, num, den = caps.get_fraction("framerate")
                if ok and num > 0:
                    fps = num / den
            buf = sample.get_buffer()
            if not buf.has_flags(Gst.BufferFlags.DELTA_UNIT):
                self.keyframes.append(len(self.units))
            self.units.append(buf.extract_dup(0, buf.get_size()))
        pipeline.set_state(Gst.State.NULL)
        self.fps = fps or 10.0

    @property
    def seconds(self):
        return len(self.units) / self.fps

    def start_unit(self, offset):
        """The unit to start from for an offset in seconds: the keyframe at or before
        it, within the loop (an offset past the end wraps round)."""
        target = int(round(offset * self.fps)) % len(self.units)
        return max((k for k in self.keyframes if k <= target), default=0)


class ClipFactory(GstRtspServer.RTSPMediaFactory):
    """Serves one Clip forever. Shared: many clients of one mount share one pipeline."""

    def __init__(self, clip, start=0):
        super().__init__()
        self.clip = clip
        self.start = start  # index of the first unit served (a keyframe)
        self.set_shared(True)
        parser, caps, payloader = CODECS[clip.codec]
        self.set_launch(
            f"( appsrc name=src is-live=true format=time caps={caps} "
            f"! {parser} config-interval=-1 ! {payloader} name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self.on_media_configure)

    def on_media_configure(self, _factory, media):
        src = media.get_element().get_by_name("src")
        clip = self.clip
        start = self.start
        duration = int(Gst.SECOND / clip.fps)
        state = {"next": 0, "t0": None, "base": 0}

        def tick():
            # Push every frame that is due by the wall clock, so the picture runs at
            # the clip's rate however late the main loop wakes. Timestamps are
            # frame-exact from the first push (not the push time: two frames pushed
            # in one late tick would share one and look like a repeated frame).
            now = time.monotonic()
            if state["t0"] is None:
                state["t0"] = now
                running = src.get_current_running_time()
                state["base"] = running if running != Gst.CLOCK_TIME_NONE else 0
            due = int((now - state["t0"]) * clip.fps) + 1
            while state["next"] < due:
                n = state["next"]
                buf = Gst.Buffer.new_wrapped(clip.units[(start + n) % len(clip.units)])
                buf.pts = buf.dts = state["base"] + n * duration
                buf.duration = duration
                state["next"] = n + 1
                if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                    state["timer"] = None
                    return False  # media torn down (client left / server stopping)
            return True

        state["timer"] = GLib.timeout_add(max(5, int(500 / clip.fps)), tick)

        def on_unprepared(_media):
            # The tick may have ended itself already (a failed push), which removes its source.
            timer, state["timer"] = state["timer"], None
            if timer is not None and GLib.MainContext.default().find_source_by_id(timer) is not None:
                GLib.source_remove(timer)

        media.connect("unprepared", on_unprepared)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8554, help="0 picks a free port (printed in the READY line)")
    parser.add_argument("--media", default=DEFAULT_MEDIA, help="folder with vtest/still/black-640x480.mp4")
    parser.add_argument("--cams", type=int, default=0, help="serve /cam/001../cam/N (the vtest clip)")
    parser.add_argument("--cam-start", choices=("clip-start", "random"), default="clip-start",
                        help="where each /cam/NNN starts in the clip: its start, or a seeded random point")
    parser.add_argument("--seed", type=int, default=1, help="seed of --cam-start random")
    parser.add_argument("--mount", action="append", default=[], metavar="PATH=CLIP[@SECONDS]",
                        help="serve CLIP (vtest, frozen, black or a --clip name) at PATH as well, "
                        "optionally starting SECONDS into it; repeatable")
    parser.add_argument("--clip", action="append", default=[], metavar="NAME=FILE",
                        help="load an H.264 MP4 as clip NAME for --mount; repeatable")
    parser.add_argument("--user", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--digest", action="store_true",
                        help="with --user/--password: ask for Digest authentication instead of Basic")
    args = parser.parse_args()

    Gst.init(None)
    clips = {
        "vtest": Clip(os.path.join(args.media, "vtest-640x480.mp4")),
        "frozen": Clip(os.path.join(args.media, "still-640x480.mp4")),
        "black": Clip(os.path.join(args.media, "black-640x480.mp4")),
    }
    for spec in args.clip:
        name, _, path = spec.partition("=")
        if not name or not path or name in clips:
            parser.error(f"--clip {spec}: expected NAME=FILE with a new NAME (not {', '.join(clips)})")
        if not os.path.isfile(path):
            parser.error(f"--clip {spec}: {path} not found; make it with scripts/sim/prepare-footage.sh --camera-streams")
        clips[name] = Clip(path)

    # Check the mounts before anything listens: a bad one is the caller's mistake.
    extra = []
    for spec in args.mount:
        path, _, rest = spec.partition("=")
        clip, at, offset_text = rest.partition("@")
        if not path.startswith("/") or clip not in clips:
            parser.error(f"--mount {spec}: expected /PATH=CLIP[@SECONDS] with CLIP one of {', '.join(clips)}")
        try:
            offset = float(offset_text) if at else 0.0
        except ValueError:
            offset = math.nan
        if not math.isfinite(offset) or offset < 0:
            parser.error(f"--mount {spec}: the start must be a number of seconds >= 0, not {offset_text!r}")
        extra.append((path, clips[clip], offset))

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    paths = []
    starts = []  # (path, seconds) of the mounts not starting at the clip's start

    def add(path, factory):
        mounts.add_factory(path, factory)
        paths.append(path)
        if factory.start:
            starts.append((path, factory.start / factory.clip.fps))

    secure = bool(args.user and args.password)
    if secure:
        # Every mount needs the password. No anonymous default token: with one,
        # the server answers 404 instead of challenging with 401, and clients
        # such as ffmpeg only send credentials after a 401.
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        if args.digest:
            # Digest only: a client that would fall back to Basic must not get in.
            auth.add_digest(args.user, args.password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        server.set_auth(auth)

    def permit(factory):
        if secure:
            parsed = Gst.Structure.from_string(
                "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )
            # PyGObject returns (structure, rest) on some versions, the structure alone on others.
            factory.add_role_from_structure(parsed[0] if isinstance(parsed, tuple) else parsed)
        return factory

    for name in ("vtest", "frozen", "black"):
        add(f"/{name}", permit(ClipFactory(clips[name])))
    # One draw per camera in camera order, so camera N starts at the same point
    # whatever the number of cameras.
    draw = random.Random(args.seed)
    vtest = clips["vtest"]
    for i in range(1, args.cams + 1):
        offset = draw.uniform(0, vtest.seconds) if args.cam_start == "random" else 0.0
        add(f"/cam/{i:03d}", permit(ClipFactory(vtest, vtest.start_unit(offset))))
    for path, clip, offset in extra:
        add(path, permit(ClipFactory(clip, clip.start_unit(offset))))

    try:
        server.attach(None)
    except GLib.Error as e:  # e.g. port in use
        print(f"rtsp-server: cannot listen on {args.host}:{args.port}: {e.message}", file=sys.stderr, flush=True)
        sys.exit(1)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    shown = paths if len(paths) <= 8 else paths[:5] + [f"...({len(paths)} in all)"]
    if starts:
        print("STARTS " + " ".join(f"{p}={s:g}" for p, s in starts), flush=True)
    print(f"READY port={server.get_bound_port()} mounts={','.join(shown)}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
