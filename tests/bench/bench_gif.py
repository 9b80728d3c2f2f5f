#!/usr/bin/env python3
"""make bench, GIF table: shrink against ffmpeg's palettegen/paletteuse two-step
and gifski, at equal output size.

For each clip and target: shrink first (-o x.gif --target T); then each other
tool is tuned to land at or under shrink's size: at shrink's frame rate, the
width is bisected (a few tries) for the largest file that is not bigger.
Everything is scored by FFmpeg's ssim filter (independent of shrink's code)
at the source's coded size: both streams are put on the source's frame
grid (fps=R:round=near, which repeats the frame on screen), so each source
frame meets the GIF frame shown at its time. Wall times: shrink's whole run
(search included) against one encode of the tuned tool at its final
setting, and against its whole tuning.

gifski: a `gifski` on PATH, else the binary the npm package ships
($(npm root -g)/gifski/bin/debian/gifski); skipped when neither runs.

Usage: tests/bench/bench_gif.py [--clips a,b] [--targets 2MB,500k] [--out docs/GIF.md]
"""
import argparse, datetime, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CLIPS = "chaplin_bw_360p.mp4,pool_cleaning_340x256.mp4,cockatoo_handheld_720p.mp4,bbb_360p_60s.mp4"
BEGIN, END = "<!-- bench_gif: begin -->", "<!-- bench_gif: end -->"


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return p, time.monotonic() - t0


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", path],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    v = next(s for s in j["streams"] if s["codec_type"] == "video")
    num, den = (int(x) for x in v.get("avg_frame_rate", "25/1").split("/"))
    return {"duration": float(j["format"]["duration"]), "w": v["width"], "h": v["height"],
            "fps": num / den if den else 25.0}


def score(src, gif, info):
    """Luma SSIM at the source's coded size, every source frame against the GIF frame on screen."""
    r = "%.6f" % info["fps"]
    lavfi = (f"[0:v]setpts=PTS-STARTPTS,fps={r}:round=near,format=yuv420p[r];"
             f"[1:v]setpts=PTS-STARTPTS,fps={r}:round=near,scale={info['w']}:{info['h']}:flags=bicubic,"
             f"format=yuv420p[d];[r][d]ssim")
    p, _ = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", src, "-i", gif, "-lavfi", lavfi,
                "-f", "null", "-"])
    m = re.search(r"SSIM Y:([0-9.]+)", p.stderr)
    return float(m.group(1)) if m else float("nan")


def even(x):
    return max(16, int(x) // 2 * 2)


def ffmpeg_gif(src, out, fps, width):
    """The usual two-step: a palette from the frames' differences, Bayer dither, changed rectangles."""
    vf = (f"fps={fps:.6f},scale={width}:-2:flags=lanczos,split[a][b];[a]palettegen=stats_mode=diff[p];"
          f"[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle")
    p, t = run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", src, "-lavfi", vf, "-loop", "0", out])
    return (os.path.getsize(out) if p.returncode == 0 and os.path.exists(out) else None), t


def gifski_gif(gifski, src, out, fps, width, tmp):
    frames = os.path.join(tmp, "frames")
    shutil.rmtree(frames, ignore_errors=True)
    os.makedirs(frames)
    t0 = time.monotonic()
    p1 = subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", src, "-vf",
                         f"fps={fps:.6f},scale={width}:-2:flags=lanczos", os.path.join(frames, "f%06d.png")],
                        capture_output=True)
    pngs = sorted(os.path.join(frames, f) for f in os.listdir(frames))
    if p1.returncode or not pngs:
        return None, time.monotonic() - t0
    p2 = subprocess.run([gifski, "-q", "--fps", f"{fps:.4f}", "-o", out] + pngs, capture_output=True)
    t = time.monotonic() - t0
    return (os.path.getsize(out) if p2.returncode == 0 and os.path.exists(out) else None), t


def tune(make, limit, width0, max_width, tries=6):
    """Bisect the width for the largest file <= limit. Returns (size, width, one_time, total_time)."""
    lo, hi = 16, max_width           # lo: fits (assumed), hi: the largest width to consider
    best, total = None, 0.0
    w = min(even(width0), max_width)
    for _ in range(tries):
        size, t = make(w)
        total += t
        if size is None:
            break
        if size <= limit:
            if not best or size > best[0]:
                best = (size, w, t)
            lo = w
        else:
            hi = w - 2
        if hi - lo < 4 or (best and best[0] >= 0.985 * limit):
            break
        nxt = even((lo + hi) / 2) if best else even(w * (limit / size) ** 0.5 * 0.97)
        if nxt == w:
            break
        w = nxt
    if not best:
        return None
    return best[0], best[1], best[2], total


def parse_size(s):
    m = re.fullmatch(r"([0-9.]+)\s*(k|kb|m|mb)?", s.strip().lower())
    mult = {"k": 1000, "kb": 1000, "m": 10 ** 6, "mb": 10 ** 6, None: 1}[m.group(2)]
    return int(float(m.group(1)) * mult)


def find_gifski():
    g = shutil.which("gifski")
    if not g:
        try:
            root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True).stdout.strip()
            cand = os.path.join(root, "gifski", "bin", "debian", "gifski")
            g = cand if os.access(cand, os.X_OK) else None
        except OSError:
            g = None
    if g and subprocess.run([g, "--version"], capture_output=True).returncode != 0:
        g = None
    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default=os.path.join(ROOT, "..", "shared", "media"))
    ap.add_argument("--clips", default=DEFAULT_CLIPS)
    ap.add_argument("--targets", default="2MB,500k,100k")
    ap.add_argument("--shrink", default=os.path.join(ROOT, "build", "shrink"))
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    if not os.path.isdir(args.media):
        print(f"bench_gif: {args.media} not found: nothing to measure", file=sys.stderr)
        return 0
    gifski = find_gifski()
    rows = []
    with tempfile.TemporaryDirectory(prefix="shrink-bench-gif.") as tmp:
        for clip in args.clips.split(","):
            src = os.path.join(args.media, clip)
            if not os.path.exists(src):
                print(f"bench_gif: no {src}, skipped", file=sys.stderr)
                continue
            info = probe(src)
            for tname in args.targets.split(","):
                target = parse_size(tname)
                row = {"clip": clip, "target": target}
                sgif = os.path.join(tmp, "shrink.gif")
                if os.path.exists(sgif):
                    os.remove(sgif)
                p, ts = run([args.shrink, src, "-o", sgif, "--target", str(target), "--json", "-f"])
                if p.returncode != 0:
                    row["shrink"] = f"failed (exit {p.returncode})"
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    continue
                j = json.loads(p.stdout.strip().splitlines()[-1])
                row.update(s_bytes=j["bytes"], s_w=j["width"], s_h=j["height"], s_fps=j["fps"], s_time=ts,
                           s_ssim=score(src, sgif, info))
                fps = j["fps"]
                limit = j["bytes"]
                f = tune(lambda w: ffmpeg_gif(src, os.path.join(tmp, "ff.gif"), fps, w), limit, j["width"],
                         even(info["w"]))
                if f:
                    ffmpeg_gif(src, os.path.join(tmp, "ff.gif"), fps, f[1])
                    row.update(f_bytes=f[0], f_w=f[1], f_time=f[2], f_tune=f[3],
                               f_ssim=score(src, os.path.join(tmp, "ff.gif"), info))
                if gifski:
                    g = tune(lambda w: gifski_gif(gifski, src, os.path.join(tmp, "gs.gif"), fps, w, tmp), limit,
                             j["width"], even(info["w"]))
                    if g:
                        gifski_gif(gifski, src, os.path.join(tmp, "gs.gif"), fps, g[1], tmp)
                        row.update(g_bytes=g[0], g_w=g[1], g_time=g[2], g_tune=g[3],
                                   g_ssim=score(src, os.path.join(tmp, "gs.gif"), info))
                rows.append(row)
                print(json.dumps(row), flush=True)

    lines = [BEGIN, "",
             f"Measured {datetime.date.today().isoformat()} on {platform.node()} ({platform.machine()}, "
             f"{os.cpu_count()} cores, shared with other work: times are indicative), "
             f"gifski {'at ' + gifski if gifski else 'not available'}.", "",
             "| clip | target | shrink bytes | WxH @ fps | SSIM shrink | SSIM ffmpeg 2-step (bytes, width) | "
             "SSIM gifski (bytes, width) | time shrink | ffmpeg: one / tuning | gifski: one / tuning |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    wins_f = wins_g = nf = ng = 0
    for r in rows:
        if "s_bytes" not in r:
            lines.append(f"| {r['clip']} | {r['target']} | {r.get('shrink')} | | | | | | | |")
            continue
        fcol = f"{r['f_ssim']:.4f} ({r['f_bytes']}, {r['f_w']})" if "f_ssim" in r else "no size fits"
        gcol = (f"{r['g_ssim']:.4f} ({r['g_bytes']}, {r['g_w']})" if "g_ssim" in r else
                ("no size fits" if gifski else "not run"))
        ftime = f"{r['f_time']:.1f} / {r['f_tune']:.1f} s" if "f_time" in r else ""
        gtime = f"{r['g_time']:.1f} / {r['g_tune']:.1f} s" if "g_time" in r else ""
        if "f_ssim" in r:
            nf += 1
            wins_f += r["s_ssim"] >= r["f_ssim"]
        if "g_ssim" in r:
            ng += 1
            wins_g += r["s_ssim"] >= r["g_ssim"]
        lines.append(f"| {r['clip']} | {r['target']} | {r['s_bytes']} | {r['s_w']}x{r['s_h']} @ {r['s_fps']:.3g} | "
                     f"{r['s_ssim']:.4f} | {fcol} | {gcol} | {r['s_time']:.1f} s | {ftime} | {gtime} |")
    lines += ["", f"shrink's SSIM >= ffmpeg two-step's in {wins_f} of {nf} comparisons; "
                  f">= gifski's in {wins_g} of {ng}.", "", END]
    table = "\n".join(lines)
    print(table)
    if args.out:
        text = open(args.out).read() if os.path.exists(args.out) else ""
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + table + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + table + "\n"
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
