#!/usr/bin/env python3
"""make bench-long: a feature-length film at 50 MB, shrink beside the recipe (issue 20).

The film (built once, cached in --work): several of the shared clips, each
normalised to 640x360 (letterboxed), 24 fps, yuv420p, into one reel encoded
as H.264 at a film's bitrate (libx264 medium, 450 kb/s, peaks 900 kb/s) with
AAC stereo 96 kb/s at 48 kHz (silence where a clip has no sound), then the
reel looped by stream copy to --minutes (default 60): about the bitrate of
issue 20's two-hour film (477 MB: 530 kb/s).

Then, one after the other on the same machine, each timed:
  decode   ffmpeg -i FILM -f null -        the unit; run right before and
                                            right after every other run, whose
                                            ratio is against their mean (the
                                            same load, as far as it can be)
  default  shrink FILM --target T --json -v
  fast     shrink FILM --target T --json -v --speed fast
  jobs2    (only when --runs names it) shrink --jobs 2: the scale-out path
  NAME     (--run-args NAME=ARGS) shrink with those options: a picture or preset forced, to compare
           on this machine (peak memory then is the parent's alone)
  recipe   tests/bench/bench.py recipe(): libx264 medium two-pass at
           V = T*8/duration - audio, Opus at the default run's audio bitrate

Per run: wall time / one decode, fill (bytes / target), whole-file encodes
(shrink's JSON "attempts"; 2 for the recipe: two passes over the film), peak
memory (the process's own ru_maxrss, from wait4), SSIM and temporal SSIM
(bench.py score() and temporal(), unchanged, run on --stretches evenly spaced
stretches of --stretch-s seconds of both files: the whole film would take as
long as the encodes) and the load average before and after. shrink's -v lines
are stamped with the seconds since its start: where its time goes.

Usage: tests/bench/long.py [--shrink build/shrink] [--minutes 60] [--target 50MB]
       [--work DIR] [--out FILE] [--runs default,fast,recipe[,jobs2]] [--stretches 10] [--stretch-s 20]
SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (its recipe, score and temporal: the same measures as make bench)

# (clip, seconds used at most): real footage of several kinds, about ten minutes in all.
REEL = [("bbb_360p_60s.mp4", 60), ("sintel_trailer_720p.mp4", 60), ("cc_wannaworktogether_180s.mp4", 120),
        ("person_walking_432p_139s.mp4", 120), ("bbb_720p_51ch_117s.ts", 117), ("fillets_intro_480p_73s.mpg", 73),
        ("highway_540p_60fps.mp4", 30), ("chaplin_bw_360p.mp4", 10), ("diver_underwater_mjpeg_480p.mov", 14),
        ("sam2_dog_720p.mp4", 10), ("liveportrait_s18_720p.mp4", 10), ("talkinghead_retalk4_700.mp4", 7),
        ("cockatoo_handheld_720p.mp4", 14)]
W, H, FPS, VBR, ABR = 640, 360, 24, "450k", "96k"


def loadavg():
    return os.getloadavg()[0]


def timed(cmd, stderr_lines=None):
    """Run cmd; (returncode, stdout, stderr, seconds, peak RSS in MiB of that process).
    With a list, each stderr line is appended to it stamped with seconds since the start."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = [], []

    def pump(f, acc, stamp):
        for raw in iter(f.readline, b""):
            line = raw.decode("utf-8", "replace")
            acc.append(line)
            if stamp is not None:
                for part in line.replace("\r", "\n").splitlines():
                    if part.strip():
                        stamp.append((time.monotonic() - t0, part))
    th = [threading.Thread(target=pump, args=(p.stdout, out, None)),
          threading.Thread(target=pump, args=(p.stderr, err, stderr_lines))]
    for t in th:
        t.start()
    # wait4 on this pid: its own peak RSS, not the maximum over every child so far.
    _, status, ru = os.wait4(p.pid, 0)
    for t in th:
        t.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, "".join(out), "".join(err), time.monotonic() - t0, ru.ru_maxrss / 1024.0


# bench.py's run() with the peak memory kept, and, inside stretch(), each ffmpeg
# input cut to one stretch (input seeking is exact when decoding): its recipe,
# score and temporal functions then run unchanged.
_SEEK = None
PEAK = []


def _run(cmd, **kw):
    if _SEEK is not None and cmd and cmd[0] == "ffmpeg":
        s, d = _SEEK
        cut = []
        for a in cmd:
            if a == "-i":
                cut += ["-ss", f"{s:.3f}", "-t", f"{d:.3f}"]
            cut.append(a)
        cmd = cut
    rc, out, err, t, rss = timed(cmd)
    PEAK.append(rss)
    if rc:
        print(f"long: exit {rc} after {t:.0f} s: {' '.join(cmd)[:200]}: {err.strip()[-400:]}", file=sys.stderr,
              flush=True)
    return subprocess.CompletedProcess(cmd, rc, out, err), t


bench.run = _run


@contextlib.contextmanager
def stretch(s, d):
    global _SEEK
    _SEEK = (s, d)
    try:
        yield
    finally:
        _SEEK = None


def make_film(media, work, minutes):
    film = os.path.join(work, f"film_{minutes:g}min_v3.mp4")
    if os.path.exists(film):
        return film
    os.makedirs(work, exist_ok=True)
    reel = os.path.join(work, "reel.mp4")
    if not os.path.exists(reel):
        args, graph, n = [], [], 0
        for clip, cap in REEL:
            path = os.path.join(media, clip)
            if not os.path.exists(path):
                continue
            info = bench.probe(path)
            # A whole number of frames (and so of 48 kHz samples): the reel's audio ends with
            # its video (the film's own end: make_film's cut below).
            d = int(min(cap, info["duration"]) * FPS - 1) / FPS
            args += ["-i", path]
            graph.append(f"[{n}:v:0]fps={FPS},trim=duration={d:.3f},setpts=PTS-STARTPTS,"
                         f"scale={W}:{H}:force_original_aspect_ratio=decrease,pad={W}:{H}:(ow-iw)/2:(oh-ih)/2,"
                         f"setsar=1,format=yuv420p[v{n}]")
            if info["audio"]:
                graph.append(f"[{n}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                             f"apad,atrim=duration={d:.3f},asetpts=PTS-STARTPTS[a{n}]")
            else:
                graph.append(f"anullsrc=r=48000:cl=stereo,atrim=duration={d:.3f}[a{n}]")
            n += 1
        if not n:
            raise SystemExit(f"long: no clips of the reel in {media}")
        graph.append("".join(f"[v{i}][a{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=1[v][a]")
        tmp = reel + ".part.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y"] + args +
                       ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]",
                        "-c:v", "libx264", "-preset", "medium", "-b:v", VBR, "-maxrate", "900k", "-bufsize", "1800k",
                        "-g", "240", "-c:a", "aac", "-b:a", ABR, "-ac", "2", tmp], check=True)
        os.rename(tmp, reel)
    # Cut just before a keyframe of the loop (the reel's GOPs are closed): every frame
    # kept has its references, and the film ends where its last frame ends. Cut at
    # -t MINUTES, the copy kept a frame at the cut's very end (86,401 frames spanning
    # 3600.12 s) and the recipe's MP4 second pass crashed on it (docs/LONG.md).
    # Looped by the concat demuxer, each copy cut at its video's end (outpoint): -stream_loop
    # moved each loop by the file's duration, the AAC's, 3 ms longer than the video, and the
    # frames drifted a frame off the 24 fps grid in four loops, where the recipe's MP4 second
    # pass (constant frame rate) added a frame its first pass never saw.
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=pts_time,flags", "-of", "csv=p=0", reel], capture_output=True, text=True, check=True)
    keys = sorted(float(l.split(",")[0]) for l in p.stdout.split() if ",K" in l)
    frames = len(p.stdout.split())
    reel_s = frames / FPS
    want = minutes * 60
    cut = max(n * reel_s + k for n in range(int(want // reel_s) + 1) for k in keys if n * reel_s + k <= want)
    listing = film + ".txt"
    with open(listing, "w") as f:
        for _ in range(int(cut // reel_s) + 1):
            f.write("file '%s'\noutpoint %.6f\n" % (os.path.abspath(reel), reel_s))
    tmp = film + ".part.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing, "-t",
                    "%.4f" % (cut - 0.5 / FPS), "-c", "copy", "-movflags", "+faststart", tmp], check=True)
    os.remove(listing)
    # The concat demuxer starts the video 21 ms late (the AAC's priming): the recipe's MP4
    # second pass (constant frame rate) then adds a first frame its first pass never saw
    # and libx264 crashes. Both streams moved back to start together, at 0.
    p = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=start_time",
                        "-of", "csv=p=0", tmp], capture_output=True, text=True, check=True)
    start = float(p.stdout.strip() or 0)
    if start > 0:
        shifted = film + ".shift.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", tmp, "-c", "copy", "-output_ts_offset",
                        "%.6f" % -start, "-avoid_negative_ts", "disabled", "-movflags", "+faststart", shifted],
                       check=True)
        os.replace(shifted, tmp)
    os.rename(tmp, film)
    return film


def decode_unit(film):
    l0 = loadavg()
    rc, _, err, t, rss = timed(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", film, "-f", "null", "-"])
    if rc:
        raise SystemExit("long: the decode of the film failed: " + err[-300:])
    print(f"decode: {t:.1f} s (load {l0:.1f} -> {loadavg():.1f})", flush=True)
    return t


def parse_size(s):
    m = re.fullmatch(r"([0-9.]+)\s*([kKmMgG]?)B?", s)
    return int(float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}[m.group(2).lower()])


def quality(film, out, info, stretches, seconds):
    """Mean SSIM and temporal SSIM over evenly spaced stretches (frame-weighted alike: equal lengths)."""
    ss, ts = [], []
    for i in range(stretches):
        s = max(0.0, (i + 0.5) * info["duration"] / stretches - seconds / 2)
        with stretch(s, seconds):
            ss.append(bench.score(film, out, info["w"], info["h"])[0])
            ts.append(bench.temporal(film, out, info["w"], info["h"]))
    return sum(ss) / len(ss), sum(ts) / len(ts), min(ss), min(ts)


def shrink_run(args, film, target, out, extra, name):
    stamped = []
    cmd = [args.shrink, film, "--target", str(target), "-o", out, "--force", "--json", "-v"] + extra
    unit = decode_unit(film)
    l0 = loadavg()
    rc, so, se, t, rss = timed(cmd, stamped)
    l1 = loadavg()
    after = decode_unit(film)
    unit = (unit + after) / 2
    log = os.path.join(args.work, f"{name}.log")
    with open(log, "w") as f:
        f.write(" ".join(cmd) + "\n")
        for at, line in stamped:
            f.write(f"{at:8.1f}  {line}\n")
        f.write(so)
    try:
        js = json.loads(so.strip().splitlines()[-1])
    except Exception:
        js = {"error": se.strip()[-300:]}
    r = {"name": name, "rc": rc, "t": t, "unit": unit, "rss": rss, "load": (l0, l1), "js": js, "log": log,
         "stamped": stamped}
    if rc == 0:
        r.update(bytes=js["bytes"], encodes=js.get("attempts"), search=js.get("search_seconds"),
                 picture=f"{js.get('encoder')} {js['width']}x{js['height']}@{js['fps']:.3g}")
    print(f"{name}: rc {rc} {t:.1f} s x{t / unit:.2f} of a decode, {rss:.0f} MiB, "
          f"{js.get('bytes')} bytes, attempts {js.get('attempts')}, search {js.get('search_seconds')} s; log {log}",
          flush=True)
    return r


def recipe_run(args, film, target, info, abps):
    out = os.path.join(args.work, "recipe.mp4")
    unit = decode_unit(film)
    l0 = loadavg()
    PEAK.clear()
    size, t = bench.recipe(film, target, info["duration"], abps, out, args.work)
    rss = max(PEAK, default=0.0)
    l1 = loadavg()
    unit = (unit + decode_unit(film)) / 2
    print(f"recipe: {t:.1f} s x{t / unit:.2f} of a decode, {rss:.0f} MiB, {size} bytes", flush=True)
    return {"name": "recipe", "rc": 0 if size else 1, "t": t, "unit": unit, "rss": rss, "load": (l0, l1),
            "bytes": size, "encodes": 2, "search": None, "out": out,
            "picture": f"x264 {info['w']}x{info['h']} (the source's)"}


def time_split(stamped):
    """The -v lines that mark shrink's phases, with their times."""
    keep = ("plan:", "pass 1", "pass 2", "probe at", "encode at", "floor at", "measured:", "candidates",
            "chose", "search", "budget", "temporary disk", "warning", "error")
    return [(t, l) for t, l in stamped if any(k in l for k in keep)]


def write_md(path, args, film, info, target, rows):
    cpu = "unknown"
    with contextlib.suppress(Exception), open("/proc/cpuinfo") as f:
        cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    with open(path, "w") as f:
        f.write(f"# Long input: {info['duration']:.0f} s film at {args.target}\n\n")
        f.write(f"Generated by `make bench-long` (tests/bench/long.py) on {platform.node()}, {cpu}, "
                f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}.\n")
        f.write(f"Film: {os.path.basename(film)}, {info['w']}x{info['h']}, {info['duration']:.0f} s, "
                f"{info['size']} bytes ({info['size'] * 8 / info['duration'] / 1000:.0f} kb/s). "
                f"Target {target} bytes.\n")
        f.write(f"Quality: bench.py score()/temporal() on {args.stretches} evenly spaced stretches of "
                f"{args.stretch_s:g} s (mean; lowest in brackets).\n"
                "x decode: wall time over one `ffmpeg -i FILM -f null -`: the mean of the runs just before and "
                "just after it (same load).\n\n")
        f.write("| run | picture | fill | encodes | s | decode s | x decode | search s | peak MiB | SSIM | temporal | "
                "load before/after |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            if r["rc"] or not r.get("bytes"):
                f.write(f"| {r['name']} | failed: {r.get('js', {}).get('error')} | | | {r['t']:.0f} | {r['unit']:.1f} "
                        f"| {r['t'] / r['unit']:.2f} | | {r['rss']:.0f} | | | {r['load'][0]:.1f}/{r['load'][1]:.1f} |\n")
                continue
            q = r.get("q", (float("nan"),) * 4)
            srch = f"{r['search']:.0f}" if r.get("search") is not None else "-"
            f.write(f"| {r['name']} | {r['picture']} | {r['bytes'] / target:.3f} | {r['encodes']} | {r['t']:.0f} | "
                    f"{r['unit']:.1f} | {r['t'] / r['unit']:.2f} | {srch} | {r['rss']:.0f} | {q[0]:.4f} ({q[2]:.4f}) | "
                    f"{q[1]:.4f} ({q[3]:.4f}) | {r['load'][0]:.1f}/{r['load'][1]:.1f} |\n")
        for r in rows:
            if "stamped" in r:
                f.write(f"\n### {r['name']}: where the time goes (-v lines, seconds since the start)\n\n```\n")
                for t, l in time_split(r["stamped"]):
                    f.write(f"{t:8.1f}  {l}\n")
                f.write(f"{r['t']:8.1f}  end\n```\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shrink", default=os.path.join(ROOT, "build", "shrink"))
    ap.add_argument("--media", default=os.environ.get("SHARED_MEDIA", os.path.join(ROOT, "..", "shared", "media")))
    ap.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "shrink-bench-long"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--target", default="50MB")
    ap.add_argument("--runs", default="default,fast,recipe")
    ap.add_argument("--run-args", action="append", default=[], metavar="NAME=ARGS",
                    help="a run of shrink with these options (split on spaces), named in --runs: "
                         "e.g. --run-args 'p10at288=--codec svt-av1 --height 288 --speed best'")
    ap.add_argument("--stretches", type=int, default=10)
    ap.add_argument("--stretch-s", type=float, default=20)
    ap.add_argument("--out", default="", help="markdown table (default: WORK/long.md)")
    ap.add_argument("--film-only", action="store_true", help="build the film and stop")
    ap.add_argument("--recipe-audio", type=int, default=0,
                    help="the recipe's Opus bitrate when no shrink run comes before it (default: the default run's)")
    args = ap.parse_args()
    if not os.path.isdir(args.media):
        print(f"bench-long: {args.media} not found: nothing to measure", file=sys.stderr)
        return 0
    args.work = os.path.abspath(args.work)
    film = make_film(args.media, args.work, args.minutes)
    info = bench.probe(film)
    print(f"film: {film}, {info['duration']:.0f} s, {info['size']} bytes", flush=True)
    if args.film_only:
        return 0
    target = parse_size(args.target)
    out = args.out or os.path.join(args.work, "long.md")
    rows, abps = [], args.recipe_audio
    for name in args.runs.split(","):
        if name == "recipe":
            r = recipe_run(args, film, target, info, abps or 64000)
        else:
            named = dict(a.split("=", 1) for a in args.run_args)
            extra = named[name].split() if name in named else \
                {"fast": ["--speed", "fast"], "jobs2": ["--jobs", "2"]}.get(name, [])
            r = shrink_run(args, film, target, os.path.join(args.work, f"{name}.mp4"), extra, name)
            r["out"] = os.path.join(args.work, f"{name}.mp4")
            if r["rc"] == 0 and not abps:
                abps = (r["js"].get("audio") or {}).get("bitrate") or 0
        rows.append(r)
        if r["rc"] == 0 and r.get("bytes"):
            t0 = time.monotonic()
            r["q"] = quality(film, r["out"], info, args.stretches, args.stretch_s)
            print(f"{name}: SSIM {r['q'][0]:.4f} temporal {r['q'][1]:.4f} (scored in {time.monotonic() - t0:.0f} s)",
                  flush=True)
        write_md(out, args, film, info, target, rows)   # after each run: a partial table survives an interruption
    print(f"bench-long: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
