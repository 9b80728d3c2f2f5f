#!/usr/bin/env python3
"""Issue 17's table: the per-film learned codec (--codec neural, .shn) against
SVT-AV1, x264 and GIF at equal bytes (docs/NEURAL.md, "Results").

What it runs. For each clip and each budget in bytes per minute of film
(2, 5, 20, 50, 200 KB/min by default; target = budget x duration / 60 s,
rounded down to whole bytes), four shrink runs at that target, all without
sound (the .shn format has none, so video is compared with video, and every
byte of each file counts, container and headers included):

  neural   shrink CLIP --codec neural --target T --time-limit L  -> .shn
           (L = 60 s + 1 s per second of film unless --limit-base/--limit-per-s;
           then `shrink decode F.shn -o F.y4m --json`: its render_seconds)
  svt-av1  shrink CLIP --codec svt-av1 --target T --no-audio     -> .mp4
  x264     shrink CLIP --codec x264 --target T --no-audio        -> .mp4
  gif      shrink CLIP --format gif --target T --no-audio        -> .gif
           (the three with shrink's defaults: search included)

Exit 4 (target too small) is recorded as "cannot", with the smallest size
shrink named. Each output is scored against the source by FFmpeg's own filters
in one graph, at one evaluation size per clip: the source's display size with
its height capped at 360 (even), source and output both scaled to it with the
same scaler (bicubic); every source frame is met by the output picture on
screen at its timestamp (the filters' frame sync holds the output's latest
frame, as tests/bench/bench.py's score() and temporal() rely on):
  SSIM (luma; dB = -10 log10(1 - SSIM)), PSNR (luma), and tSSIM: SSIM of
  frame differences (tblend grainextract on both sides, bench.py temporal()).
Encode s is shrink's wall time as run here; decode s is the neural file's
render_seconds, and for the others one `ffmpeg -i OUT -f null -` (wall).

How long. Dominated by the neural fits: sum over clips and budgets of L, plus
roughly a minute per clip and budget for the other three and the scoring.
The default clips at 2,5,20,50 KB/min took 31 minutes (1834 s, 1100 s of it
neural fits) on the machine below, busy with other work; all five budgets
would take about 40.

Machine. Written on a 2-core Debian 12 VM (FFmpeg 5.1): runs are sequential
(the neural fit and the encoders use both cores), and the load average is
recorded before each run and in the summary: times from a busy machine are
indicative only.

Raw rows go to --json (one object per run, rewritten after each; --resume
skips rows already there for the same shrink commit and time limit), the
table to --md, the curves to --svg. --report-only redraws --md and --svg
from --json without running anything.

Usage: tests/bench/bench_neural.py [--clips bbb,talkinghead] [--budgets 2,5,20,50,200]
          [--codecs neural,svt-av1,x264,gif] [--limit-base 60 --limit-per-s 1]
          [--json /work/neural_results.json] [--md /work/neural_results.md]
          [--svg docs/neural_curves.svg] [--resume] [--report-only]

SPDX-License-Identifier: GPL-3.0-or-later
"""
import argparse, json, math, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from bench import machine, run  # noqa: E402  (same timing helper as make bench)

DEFAULT_CLIPS = "bbb_360p_60s.mp4,talkinghead_retalk4_700.mp4,highway_540p_60fps.mp4"
CODECS = {  # name -> (shrink options, output extension)
    "neural": (["--codec", "neural"], "shn"),
    "svt-av1": (["--codec", "svt-av1", "--no-audio"], "mp4"),
    "x264": (["--codec", "x264", "--no-audio"], "mp4"),
    "gif": (["--format", "gif", "--no-audio"], "gif"),
}
EVAL_MAX_H = 360


def default_media():
    """../shared/media beside the tree, or beside the main tree when this is a git worktree."""
    cand = [os.path.join(ROOT, "..", "shared", "media")]
    common = subprocess.run(["git", "-C", ROOT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                            capture_output=True, text=True).stdout.strip()
    if common:
        cand.append(os.path.join(os.path.dirname(os.path.dirname(common)), "shared", "media"))
    return next((c for c in cand if os.path.isdir(c)), cand[0])


def probe(path):
    """Duration, coded and display size, frame rate of the first video stream."""
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", path],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    v = next(s for s in j["streams"] if s["codec_type"] == "video")
    num, den = (int(x) for x in v.get("avg_frame_rate", "25/1").split("/"))
    sar = v.get("sample_aspect_ratio", "1:1")
    sn, sd = (int(x) for x in sar.split(":")) if re.fullmatch(r"\d+:\d+", sar) and not sar.startswith("0") else (1, 1)
    return {"duration": float(j["format"]["duration"]), "w": v["width"], "h": v["height"],
            "dw": v["width"] * sn / sd, "fps": num / den if den else 25.0}


def eval_size(info):
    """The source's display size, height capped at EVAL_MAX_H, both even."""
    w, h = info["dw"], info["h"]
    if h > EVAL_MAX_H:
        w, h = w * EVAL_MAX_H / h, EVAL_MAX_H
    return int(round(w / 2)) * 2, int(h) // 2 * 2


def measure(src, out, w, h):
    """SSIM, PSNR (luma) and tSSIM of out against src at w x h, in one FFmpeg graph:
    bench.py's score() (ssim, psnr) and temporal() (overlay pairing, tblend
    grainextract, ssim) with the source scaled to the evaluation size too."""
    sc = f"scale={w}:{h}:flags=bicubic,format=yuv420p"
    g = (f"[0:v]setpts=PTS-STARTPTS,{sc},split=3[r1][r2][r3];"
         f"[1:v]setpts=PTS-STARTPTS,{sc},split=3[d1][d2][d3];"
         f"[r1][d1]ssim@spatial,nullsink;[r2][d2]psnr@spatial,nullsink;"
         f"[r3]pad={2 * w}:{h}[rp];[rp][d3]overlay=x={w}:y=0:eof_action=repeat,split[p1][p2];"
         f"[p1]crop={w}:{h}:0:0,tblend=all_mode=grainextract[a];"
         f"[p2]crop={w}:{h}:{w}:0,tblend=all_mode=grainextract[b];[a][b]ssim@temporal")
    p, t = run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", src, "-i", out, "-lavfi", g,
                "-f", "null", "-"])

    def grab(pat):
        m = re.search(pat, p.stderr)
        return float(m.group(1)) if m else float("nan")
    return (grab(r"\[ssim@spatial @ [^]]*\] SSIM Y:([0-9.]+)"), grab(r"\[psnr@spatial @ [^]]*\] PSNR y:([0-9.inf]+)"),
            grab(r"\[ssim@temporal @ [^]]*\] SSIM Y:([0-9.]+)"), t)


def db(s):
    return -10 * math.log10(1 - s) if s == s and s < 1 else float("inf") if s == 1 else float("nan")


def shrink_commit(shrink):
    """The last commit to touch src/ in the tree the binary was built in (plus '+dirty' when
    src/ has changes): the code measured, whatever docs were committed since."""
    tree = os.path.dirname(os.path.dirname(os.path.abspath(shrink)))
    c = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%h", "HEAD", "--", "src", "include"],
                       capture_output=True, text=True).stdout.strip()
    d = subprocess.run(["git", "-C", tree, "status", "--porcelain", "src"], capture_output=True, text=True).stdout.strip()
    return (c or "?") + ("+dirty" if d else "")


def one(args, clip, src, info, ev, kb, codec, tmp, commit):
    dur = info["duration"]
    target = int(kb * 1000 * dur / 60)
    opts, ext = CODECS[codec]
    out = os.path.join(tmp, f"out.{ext}")
    if os.path.exists(out):
        os.remove(out)
    row = {"clip": clip, "budget_kb_min": kb, "target": target, "codec": codec, "commit": commit,
           "load1": round(os.getloadavg()[0], 2), "eval": f"{ev[0]}x{ev[1]}", "duration": dur}
    extra = []
    if codec == "neural":
        limit = int(args.limit_base + args.limit_per_s * dur)
        extra = ["--time-limit", str(limit)]
        row["time_limit"] = limit
    p, t = run([args.shrink, src, "--target", str(target), "-o", out, "-f", "--json"] + opts + extra)
    row["encode_s"] = round(t, 2)
    row["rc"] = p.returncode
    try:
        js = json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:
        js = {}
    if p.returncode == 4:
        row.update(status="cannot", min_bytes=js.get("min_bytes"))
        return row
    if p.returncode or not os.path.exists(out):
        row.update(status="failed", error=(js.get("error") or p.stderr.strip())[-300:])
        return row
    size = os.path.getsize(out)
    row.update(status="ok", bytes=size, fill=round(size / target, 4), w=js.get("width"), h=js.get("height"),
               fps=js.get("fps"), over=size > target)
    if codec == "neural":
        y4m = os.path.join(tmp, "out.y4m")
        q, td = run([args.shrink, "decode", out, "-o", y4m, "-f", "--json"])
        try:
            dj = json.loads(q.stdout.strip().splitlines()[-1])
        except Exception:
            dj = {}
        if q.returncode or not os.path.exists(y4m):
            row.update(status="failed", error="decode: " + q.stderr.strip()[-300:])
            return row
        row.update(decode_s=dj.get("render_seconds"), decode_wall_s=round(td, 2), frames=dj.get("frames"))
        scored = y4m
    else:
        q, td = run(["ffmpeg", "-nostdin", "-v", "error", "-i", out, "-f", "null", "-"])
        row["decode_s"] = round(td, 2)
        scored = out
    s, ps, ts, tm = measure(src, scored, *ev)
    row.update(ssim=s, ssim_db=round(db(s), 3), psnr=ps, tssim=ts, measure_s=round(tm, 1))
    if codec == "neural":
        os.remove(scored)
    return row


def fmt_row(r):
    if r["status"] == "cannot":
        return f"cannot (smallest {r.get('min_bytes')} B) {r['encode_s']:.1f}s"
    if r["status"] != "ok":
        return f"FAILED rc {r['rc']}: {r.get('error')}"
    return (f"{r['bytes']} B ({r['fill']:.3f}) {r['w']}x{r['h']}@{r['fps']:.3g} ssim {r['ssim']:.4f} "
            f"({r['ssim_db']:.2f} dB) psnr {r['psnr']:.2f} tssim {r['tssim']:.4f} enc {r['encode_s']:.1f}s "
            f"dec {r['decode_s']:.2f}s")


# ---- report -------------------------------------------------------------------------------

def write_md(path, rows, meta):
    codecs = [c for c in CODECS if any(r["codec"] == c for r in rows)]
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    budgets = sorted({r["budget_kb_min"] for r in rows})
    L = ["## Results", "",
         f"Measured {meta.get('date', '?')} by `tests/bench/bench_neural.py` (shrink's src/ at {meta.get('commit', '?')}) "
         f"on {meta.get('machine', '?')}.",
         f"Load: `uptime` before: {meta.get('uptime_before', '?')}; after: {meta.get('uptime_after', '?')}.",
         "",
         "Each clip is shrunk to the same target in bytes by each codec: budget (KB per minute of film) x "
         "duration / 60 s, rounded down. All four without sound (`--no-audio`; the .shn format has none); "
         "every byte of each file counts. SVT-AV1, x264 and GIF run with shrink's defaults; the neural fit "
         f"gets `--time-limit` {meta.get('limit', '?')}. \"cannot\": shrink exits 4 (target too small), "
         "with the smallest size it names.",
         "",
         "Scoring: FFmpeg's `ssim`, `psnr` filters and the temporal measure in one graph "
         "(`measure()`: the chains of `score()` and `temporal()` in tests/bench/bench.py, with the source "
         f"scaled too), at one size per clip: the display size, height capped at {EVAL_MAX_H}, source and "
         "output both bicubic; every source frame against the output picture on screen at its time (a "
         "lower frame rate is held). SSIM and PSNR are luma; SSIM dB = -10 log10(1 - SSIM); tSSIM = SSIM of "
         "frame differences (tblend grainextract both sides). Encode s = shrink's wall time (search "
         "included); decode s = `shrink decode`'s render_seconds for .shn, one `ffmpeg -i OUT -f null -` "
         "for the others.",
         ""]
    L.append("| clip (eval size) | KB/min | target B | codec | bytes | picture | SSIM | SSIM dB | PSNR | tSSIM "
             "| encode s | decode s |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for clip in clips:
        for kb in budgets:
            for c in codecs:
                r = next((x for x in rows if x["clip"] == clip and x["budget_kb_min"] == kb and x["codec"] == c), None)
                if not r:
                    continue
                name = f"{clip.rsplit('.', 1)[0]} ({r['eval']})"
                head = f"| {name} | {kb:g} | {r['target']} | {c} |"
                if r["status"] == "cannot":
                    L.append(f"{head} cannot (min {r.get('min_bytes')} B) | | | | | | {r['encode_s']:.1f} | |")
                elif r["status"] != "ok":
                    L.append(f"{head} failed (exit {r['rc']}) | | | | | | {r['encode_s']:.1f} | |")
                else:
                    L.append(f"{head} {r['bytes']} | {r['w']}x{r['h']}@{r['fps']:.3g} | {r['ssim']:.4f} | "
                             f"{r['ssim_db']:.2f} | {r['psnr']:.2f} | {r['tssim']:.4f} | {r['encode_s']:.1f} | "
                             f"{r['decode_s']:.2f} |")
    L.append("")
    # who has the best SSIM dB at each clip and budget
    best = {}
    for clip in clips:
        for kb in budgets:
            ok = [r for r in rows if r["clip"] == clip and r["budget_kb_min"] == kb and r["status"] == "ok"]
            if ok:
                b = max(ok, key=lambda r: r["ssim_db"])
                best.setdefault(b["codec"], []).append(f"{clip.split('_')[0]} {kb:g}")
    L.append("Best SSIM dB per clip and budget: " + "; ".join(
        f"{c} {len(v)} ({', '.join(v)})" for c, v in sorted(best.items(), key=lambda kv: -len(kv[1]))) + ".")
    L.append("")
    L.append("![SSIM dB against bytes per minute](neural_curves.svg)")
    L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


COLOURS = {"neural": "#d62728", "svt-av1": "#1f77b4", "x264": "#2ca02c", "gif": "#9467bd"}


def write_svg(path, rows):
    """SSIM dB against bytes per minute (log x), a panel per clip, a line per codec; 'cannot'
    as a hollow mark on the panel's floor at the target's rate."""
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    codecs = [c for c in CODECS if any(r["codec"] == c for r in rows)]
    pw, ph, ml, mr, mt, mb = 300, 230, 48, 24, 28, 40
    cols = min(3, len(clips)) or 1
    nrow = (len(clips) + cols - 1) // cols
    legend_h = 44
    W, H = max(cols * (pw + ml + mr), 480), nrow * (ph + mt + mb) + legend_h
    ok = [r for r in rows if r["status"] == "ok"]
    bpm = lambda r, b: b * 60 / r["duration"]
    xs = [bpm(r, r["bytes"]) for r in ok] + [bpm(r, r["target"]) for r in rows]
    if not xs:
        return
    x0 = 10 ** math.floor(math.log10(min(xs)))
    x1 = 10 ** math.ceil(math.log10(max(xs)))
    ys = [r["ssim_db"] for r in ok if r["ssim_db"] == r["ssim_db"] and r["ssim_db"] != float("inf")]
    y0 = math.floor(min(ys)) - 1 if ys else 0
    y1 = math.ceil(max(ys + [1])) if ys else 10
    S = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="sans-serif" font-size="11">', f'<rect width="{W}" height="{H}" fill="white"/>']
    for i, clip in enumerate(clips):
        ox = (i % cols) * (pw + ml + mr) + ml
        oy = (i // cols) * (ph + mt + mb) + mt
        X = lambda v: ox + (math.log10(v) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) * pw
        Y = lambda v: oy + ph - (v - y0) / (y1 - y0) * ph
        S.append(f'<text x="{ox + pw / 2}" y="{oy - 10}" text-anchor="middle" font-weight="bold">'
                 f'{clip.rsplit(".", 1)[0]}</text>')
        S.append(f'<rect x="{ox}" y="{oy}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        d = x0
        while d <= x1 * 1.0001:
            for m in range(1, 10):
                v = d * m
                if v > x1 * 1.0001:
                    break
                x = X(v)
                S.append(f'<line x1="{x:.1f}" y1="{oy}" x2="{x:.1f}" y2="{oy + ph}" stroke="#eee"/>' if m > 1 else
                         f'<line x1="{x:.1f}" y1="{oy}" x2="{x:.1f}" y2="{oy + ph}" stroke="#ccc"/>')
                if m == 1:
                    lab = f"{v / 1000:g} KB" if v >= 1000 else f"{v:g} B"
                    S.append(f'<text x="{x:.1f}" y="{oy + ph + 14}" text-anchor="middle">{lab}</text>')
            d *= 10
        step = 2 if y1 - y0 <= 16 else 5
        for v in range(int(y0), int(y1) + 1):
            if v % step == 0:
                S.append(f'<line x1="{ox}" y1="{Y(v):.1f}" x2="{ox + pw}" y2="{Y(v):.1f}" stroke="#ddd"/>')
                S.append(f'<text x="{ox - 5}" y="{Y(v) + 4:.1f}" text-anchor="end">{v}</text>')
        S.append(f'<text x="{ox + pw / 2}" y="{oy + ph + 30}" text-anchor="middle">bytes per minute of film</text>')
        S.append(f'<text x="{ox - 34}" y="{oy + ph / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 {ox - 34} {oy + ph / 2})">luma SSIM dB</text>')
        for c in codecs:
            pts = sorted((bpm(r, r["bytes"]), r["ssim_db"]) for r in ok if r["clip"] == clip and r["codec"] == c)
            if len(pts) > 1:
                S.append(f'<polyline fill="none" stroke="{COLOURS[c]}" stroke-width="2" points="' +
                         " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts) + '"/>')
            for x, y in pts:
                S.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{COLOURS[c]}"/>')
            for r in rows:
                if r["clip"] == clip and r["codec"] == c and r["status"] == "cannot":
                    S.append(f'<circle cx="{X(bpm(r, r["target"])):.1f}" cy="{oy + ph - 4 - 4 * codecs.index(c)}" '
                             f'r="3" fill="none" stroke="{COLOURS[c]}"/>')
    ly = H - legend_h + 8
    for k, c in enumerate(codecs):
        lx = ml + k * 100
        S.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{COLOURS[c]}" stroke-width="2"/>')
        S.append(f'<circle cx="{lx + 11}" cy="{ly}" r="3" fill="{COLOURS[c]}"/>')
        S.append(f'<text x="{lx + 27}" y="{ly + 4}">{c}</text>')
    S.append(f'<text x="{ml}" y="{ly + 22}" fill="#555">x: bytes x 60 / duration; hollow mark on a panel\'s '
             f'floor: that codec cannot reach that target (exit 4)</text>')
    S.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(S) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default=default_media())
    ap.add_argument("--clips", default=DEFAULT_CLIPS)
    ap.add_argument("--budgets", default="2,5,20,50,200", help="KB per minute of film")
    ap.add_argument("--codecs", default=",".join(CODECS))
    ap.add_argument("--shrink", default=os.path.join(ROOT, "build", "shrink"))
    ap.add_argument("--limit-base", type=float, default=60, help="neural --time-limit: seconds ...")
    ap.add_argument("--limit-per-s", type=float, default=1, help="... plus this many per second of film")
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench-neural", "neural_results.json"))
    ap.add_argument("--md", default=os.path.join(ROOT, "build", "bench-neural", "neural_results.md"))
    ap.add_argument("--svg", default=os.path.join(ROOT, "docs", "neural_curves.svg"))
    ap.add_argument("--resume", action="store_true", help="keep the rows in --json, run only the missing ones")
    ap.add_argument("--report-only", action="store_true", help="redraw --md and --svg from --json")
    args = ap.parse_args()

    for p in (args.json, args.md):
        if p and os.path.dirname(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
    doc = {"meta": {}, "rows": []}
    if (args.resume or args.report_only) and os.path.exists(args.json):
        with open(args.json) as f:
            doc = json.load(f)
    if not args.report_only:
        if not os.path.isdir(args.media):
            print(f"bench_neural: {args.media} not found: nothing to measure", file=sys.stderr)
            return 0
        commit = shrink_commit(args.shrink)
        meta = doc["meta"]
        if not (args.resume and meta.get("uptime_before")):
            meta["uptime_before"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        meta.update(commit=commit, machine=machine(), date=time.strftime("%Y-%m-%d %H:%M"),
                    limit=f"{args.limit_base:g} s + {args.limit_per_s:g} s per second of film")
        rows = [r for r in doc["rows"] if r.get("commit") == commit]
        doc["rows"] = rows
        t_all = time.monotonic()
        tmp = tempfile.mkdtemp(prefix="shrink-bench-neural.")
        try:
            clips = []
            for clip in args.clips.split(","):
                src = os.path.join(args.media, clip)
                if not os.path.exists(src):
                    print(f"bench_neural: no {src}, skipped", file=sys.stderr)
                    continue
                info = probe(src)
                clips.append((clip, src, info, eval_size(info)))
            # budgets outermost: a run cut short still has every clip at the budgets it reached
            for kb in [float(b) for b in args.budgets.split(",")]:
                for clip, src, info, ev in clips:
                    for codec in args.codecs.split(","):
                        limit = int(args.limit_base + args.limit_per_s * info["duration"])
                        if any(r["clip"] == clip and r["budget_kb_min"] == kb and r["codec"] == codec and
                               (codec != "neural" or r.get("time_limit") == limit) for r in rows):
                            continue
                        rows[:] = [r for r in rows if not (r["clip"] == clip and r["budget_kb_min"] == kb and
                                                           r["codec"] == codec)]
                        r = one(args, clip, src, info, ev, kb, codec, tmp, commit)
                        rows.append(r)
                        print(f"[{time.monotonic() - t_all:7.0f}s] {clip:30s} {kb:5g} KB/min {codec:8s} {fmt_row(r)}",
                              flush=True)
                        with open(args.json, "w") as f:
                            json.dump(doc, f, indent=1)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        meta["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        meta["run_s"] = round(time.monotonic() - t_all)
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    if args.md:
        write_md(args.md, doc["rows"], doc["meta"])
    if args.svg:
        write_svg(args.svg, doc["rows"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
