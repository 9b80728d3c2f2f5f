#!/usr/bin/env python3
"""make bench: shrink against the usual ffmpeg two-pass recipe, side by side.

For each clip of ../shared/media and each budget (kb/s x duration = target):
  shrink   build/shrink CLIP --target T
  recipe   ffmpeg -c:v libx264 -b:v V -pass 1 ... -pass 2, at the source's
           resolution and frame rate, V = T*8/duration - the audio bitrate
           (the arithmetic people do by hand), same audio as shrink chose
           (Opus at shrink's bitrate, or none).
Both are scored by FFmpeg's own ssim and psnr filters (independent of
shrink's code) at the source's coded size, every source frame against the
picture shown at that time (dropped frames held). Wall time is measured for
both on the same machine, one after the other.

With --codecs x264,x265,aom (names as --codec takes them) each clip and
budget is also shrunk with each encoder forced, into its default container,
scored the same way: a table per codec. With --extreme, a two-hour film (a
synthetic one made here, or --film PATH) is shrunk to 1.44MB/100KB/10KB/4KB
with each of those codecs: size, duration kept, SSIM at the source's size.
Both tables are appended to --out.

Usage: tests/bench/bench.py [--clips a,b] [--rates 400,100,20] [--out docs/BENCHMARKS.md]
                            [--codecs x264,x265,aom] [--no-recipe] [--extreme] [--film PATH]
"""
import argparse, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", path],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out)
    v = next(s for s in j["streams"] if s["codec_type"] == "video")
    a = [s for s in j["streams"] if s["codec_type"] == "audio"]
    return {"duration": float(j["format"]["duration"]), "w": v["width"], "h": v["height"],
            "audio": bool(a), "size": int(j["format"]["size"])}


def run(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p, time.monotonic() - t0


def score(src, out, w, h):
    """SSIM and PSNR (luma) by FFmpeg's filters at the source's coded size."""
    lavfi = (f"[0:v]setpts=PTS-STARTPTS,format=yuv420p[r];"
             f"[1:v]setpts=PTS-STARTPTS,scale={w}:{h}:flags=bicubic,format=yuv420p[d];"
             f"[r][d]ssim;[0:v]setpts=PTS-STARTPTS,format=yuv420p[r2];"
             f"[1:v]setpts=PTS-STARTPTS,scale={w}:{h}:flags=bicubic,format=yuv420p[d2];[r2][d2]psnr")
    p, _ = run(["ffmpeg", "-hide_banner", "-nostats", "-i", src, "-i", out, "-lavfi", lavfi, "-f", "null", "-"])
    s = re.search(r"SSIM Y:([0-9.]+)", p.stderr)
    q = re.search(r"PSNR y:([0-9.inf]+)", p.stderr)
    return (float(s.group(1)) if s else float("nan"), float(q.group(1)) if q else float("nan"))


def temporal(src, out, w, h):
    """Temporal fidelity by FFmpeg's filters alone: SSIM (luma) of frame
    differences. Each source frame is paired with the output picture shown at
    its time (overlay holds the output's last frame, as the ssim filter does),
    then tblend's grainextract makes frame-to-frame differences of both sides
    and ssim compares them. A held frame has no difference: judder scores low
    where the source moves."""
    lavfi = (f"[0:v]setpts=PTS-STARTPTS,format=yuv420p,pad={2 * w}:{h}[r];"
             f"[1:v]setpts=PTS-STARTPTS,scale={w}:{h}:flags=bicubic,format=yuv420p[d];"
             f"[r][d]overlay=x={w}:y=0:eof_action=repeat,split[p1][p2];"
             f"[p1]crop={w}:{h}:0:0,tblend=all_mode=grainextract[a];"
             f"[p2]crop={w}:{h}:{w}:0,tblend=all_mode=grainextract[b];[a][b]ssim")
    p, _ = run(["ffmpeg", "-hide_banner", "-nostats", "-i", src, "-i", out, "-lavfi", lavfi, "-f", "null", "-"])
    s = re.search(r"SSIM Y:([0-9.]+)", p.stderr)
    return float(s.group(1)) if s else float("nan")


def recipe(src, target, dur, audio_bps, out, tmp):
    """The usual two-pass recipe at the source's size."""
    vb = int(target * 8 / dur - audio_bps)
    if vb <= 0:
        return None, 0.0
    log = os.path.join(tmp, "recipe")
    p1 = ["ffmpeg", "-y", "-v", "error", "-i", src, "-c:v", "libx264", "-preset", "medium", "-b:v", str(vb),
          "-pass", "1", "-passlogfile", log, "-an", "-f", "null", "-"]
    a = ["-c:a", "libopus", "-b:a", str(audio_bps)] if audio_bps else ["-an"]
    p2 = ["ffmpeg", "-y", "-v", "error", "-i", src, "-c:v", "libx264", "-preset", "medium", "-b:v", str(vb),
          "-pass", "2", "-passlogfile", log] + a + ["-movflags", "+faststart", out]
    r1, t1 = run(p1)
    r2, t2 = run(p2)
    if r1.returncode or r2.returncode:
        return None, t1 + t2
    return os.path.getsize(out), t1 + t2


def recipe_fitted(src, target, dur, audio_bps, out, tmp, first_size, first_time):
    """What the user does next when the recipe overshoots: scale the bitrate by
    target/size (a 2% margin) and run both passes again, up to three times.
    Returns (size, cumulative seconds, runs) of the first output that fits."""
    size, total, runs = first_size, first_time, 1
    scale = 1.0
    while size and size > target and runs < 4:
        scale *= target / size * 0.98
        size, t = recipe_at(src, int((target * 8 / dur - audio_bps) * scale), audio_bps, out, tmp)
        total += t
        runs += 1
    return (size if size and size <= target else None), total, runs


def recipe_at(src, vb, audio_bps, out, tmp):
    """The two passes at a video bitrate."""
    if vb <= 0:
        return None, 0.0
    log = os.path.join(tmp, "recipe")
    a = ["-c:a", "libopus", "-b:a", str(audio_bps)] if audio_bps else ["-an"]
    p1 = ["ffmpeg", "-y", "-v", "error", "-i", src, "-c:v", "libx264", "-preset", "medium", "-b:v", str(vb),
          "-pass", "1", "-passlogfile", log, "-an", "-f", "null", "-"]
    p2 = ["ffmpeg", "-y", "-v", "error", "-i", src, "-c:v", "libx264", "-preset", "medium", "-b:v", str(vb),
          "-pass", "2", "-passlogfile", log] + a + ["-movflags", "+faststart", out]
    r1, t1 = run(p1)
    r2, t2 = run(p2)
    if r1.returncode or r2.returncode:
        return None, t1 + t2
    return os.path.getsize(out), t1 + t2


# The format each encoder writes by default (as shrink picks it from --codec alone).
CODEC_EXT = {"vp9": "webm"}
EXTREME_TARGETS = ["1.44MB", "100KB", "10KB", "4KB"]


def shrink_scored(shrink, src, target, out, info, extra):
    """One shrink run with extra options, scored; a row dict (or one with "error")."""
    p, t = run([shrink, src, "--target", str(target), "-o", out, "--force", "--json"] + extra)
    try:
        js = json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:
        js = {"error": p.stderr.strip()}
    if p.returncode:
        return {"error": js.get("error") or p.stderr.strip()[:200], "t": t, "min_bytes": js.get("min_bytes")}
    ss, sp = score(src, out, info["w"], info["h"])
    fd = probe(out)["duration"]
    return {"bytes": js["bytes"], "ratio": js["bytes"] / target, "w": js["width"], "h": js["height"],
            "fps": js["fps"], "ssim": ss, "psnr": sp, "t": t, "attempts": js.get("attempts"),
            "duration": fd, "audio": bool(js.get("audio"))}


def codec_rows(args, clips, rates, tmp):
    rows = []
    for clip in clips:
        src = os.path.join(args.media, clip)
        info = probe(src)
        for rate in rates:
            target = int(rate / 8 * info["duration"])
            for codec in args.codecs.split(","):
                out = os.path.join(tmp, "c." + CODEC_EXT.get(codec, "mp4"))
                r = shrink_scored(args.shrink, src, target, out, info, ["--codec", codec])
                r.update({"clip": clip, "rate": rate, "target": target, "codec": codec})
                rows.append(r)
                print(f"{clip:38s} {rate//1000:4d}k {codec:8s} " + (
                      f"{r['ratio']:.3f} {r['w']}x{r['h']}@{r['fps']:.3g} ssim {r['ssim']:.4f} "
                      f"psnr {r['psnr']:.2f} {r['t']:6.1f}s" if "ssim" in r else f"failed: {r['error']}"), flush=True)
    return rows


def make_film(tmp):
    """A two-hour synthetic film, cheap to decode: 64x36 at 2 fps, a sine track."""
    path = os.path.join(tmp, "film2h.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000", "-t", "7200", "-map", "0:v",
                    "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "12k", "-ac", "1", path], check=True)
    return path


def extreme_rows(args, tmp):
    film = args.film or make_film(tmp)
    info = probe(film)
    rows = []
    for codec in args.codecs.split(","):
        for label in EXTREME_TARGETS:
            target = int(float(re.sub(r"[A-Za-z]+$", "", label)) * (1000000 if label.endswith("MB") else 1000))
            out = os.path.join(tmp, "x." + CODEC_EXT.get(codec, "mp4"))
            r = shrink_scored(args.shrink, film, target, out, info, ["--codec", codec])
            r.update({"codec": codec, "label": label, "target": target, "film_s": info["duration"]})
            rows.append(r)
            print(f"extreme {codec:8s} {label:7s} " + (
                  f"{r['bytes']} B {r['w']}x{r['h']}@{r['fps']:.3g} duration {r['duration']:.1f}/{info['duration']:.1f} "
                  f"ssim {r['ssim']:.4f} {r['t']:.1f}s" if "ssim" in r else f"failed: {r['error']}"), flush=True)
    return rows, film, info


def append_md(path, crows, xrows, film, finfo):
    with open(path, "a") as f:
        if crows:
            f.write("\n## Codecs (`--codec`)\n\nEach encoder forced with `--codec`, same clips, budgets and scoring; "
                    "default container (WebM for VP9, else MP4).\n\n")
            f.write("| clip | budget | codec | ratio | picture | SSIM | PSNR | attempts | s |\n|---|---|---|---|---|---|---|---|---|\n")
            for r in crows:
                if "ssim" not in r:
                    f.write(f"| {r['clip']} | {r['rate']//1000}k | {r['codec']} | failed: {r['error']} ||||||\n")
                    continue
                f.write(f"| {r['clip']} | {r['rate']//1000}k | {r['codec']} | {r['ratio']:.3f} | "
                        f"{r['w']}x{r['h']}@{r['fps']:.3g} | {r['ssim']:.4f} | {r['psnr']:.2f} | {r['attempts']} | "
                        f"{r['t']:.1f} |\n")
        if xrows:
            f.write(f"\n## The extreme range\n\nA {finfo['duration']:.0f} s film ({os.path.basename(film)}, "
                    f"{finfo['w']}x{finfo['h']}) per codec and target: size, duration kept, SSIM at the source's "
                    "size (FFmpeg's ssim filter, every source frame against the picture shown).\n\n")
            f.write("| codec | target | bytes | picture | duration | SSIM | s |\n|---|---|---|---|---|---|---|\n")
            for r in xrows:
                if "ssim" not in r:
                    f.write(f"| {r['codec']} | {r['label']} | failed: {r['error']} ||||\n")
                    continue
                f.write(f"| {r['codec']} | {r['label']} | {r['bytes']} | {r['w']}x{r['h']}@{r['fps']:.3g} | "
                        f"{r['duration']:.1f} s of {r['film_s']:.1f} | {r['ssim']:.4f} | {r['t']:.1f} |\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--media", default=os.path.join(ROOT, "..", "shared", "media"))
    ap.add_argument("--clips", default="")
    ap.add_argument("--rates", default="400,100,20")
    ap.add_argument("--shrink", default=os.path.join(ROOT, "build", "shrink"))
    ap.add_argument("--out", default="")
    ap.add_argument("--codecs", default="", help="also shrink with each of these --codec names")
    ap.add_argument("--no-recipe", action="store_true", help="skip the x264 recipe comparison")
    ap.add_argument("--extreme", action="store_true", help="a two-hour film down to 4 KB, per codec")
    ap.add_argument("--film", default="", help="the long film for --extreme (default: a synthetic one)")
    ap.add_argument("--shrink-args", default="", help="extra shrink options for the recipe table, e.g. '--speed fast'")
    args = ap.parse_args()
    if not os.path.isdir(args.media):
        print(f"bench: {args.media} not found: nothing to measure", file=sys.stderr)
        return 0
    clips = sorted(f for f in os.listdir(args.media) if not f.endswith(".md"))
    if args.clips:
        want = args.clips.split(",")
        clips = [c for c in clips if any(w in c for w in want)]
    rates = [int(r) * 1000 for r in args.rates.split(",")]
    rows, crows, xrows, film, finfo = [], [], [], None, None
    tmp = tempfile.mkdtemp(prefix="shrink-bench.")
    try:
        if args.codecs:
            crows = codec_rows(args, clips, rates, tmp)
        if args.extreme:
            xrows, film, finfo = extreme_rows(args, tmp)
        for clip in ([] if args.no_recipe else clips):
            src = os.path.join(args.media, clip)
            info = probe(src)
            for rate in rates:
                target = int(rate / 8 * info["duration"])
                out_s = os.path.join(tmp, "s.mp4")
                out_r = os.path.join(tmp, "r.mp4")
                p, ts = run([args.shrink, src, "--target", str(target), "-o", out_s, "--force", "--json"] +
                            args.shrink_args.split())
                try:
                    js = json.loads(p.stdout.strip().splitlines()[-1])
                except Exception:
                    js = {"error": p.stderr.strip()}
                if p.returncode:
                    rows.append({"clip": clip, "rate": rate, "target": target, "error": js.get("error")})
                    print(f"{clip} {rate//1000}k: shrink failed: {js.get('error')}", flush=True)
                    continue
                abps = (js.get("audio") or {}).get("bitrate") or 0
                rsize, tr = recipe(src, target, info["duration"], abps, out_r, tmp)
                ss, sp = score(src, out_s, info["w"], info["h"])
                st = temporal(src, out_s, info["w"], info["h"])
                rs, rp = score(src, out_r, info["w"], info["h"]) if rsize else (float("nan"), float("nan"))
                rt = temporal(src, out_r, info["w"], info["h"]) if rsize else float("nan")
                fsize, tf, fruns = recipe_fitted(src, target, info["duration"], abps, out_r, tmp, rsize, tr)
                if fsize and fruns > 1:
                    fs, _ = score(src, out_r, info["w"], info["h"])
                    ft = temporal(src, out_r, info["w"], info["h"])
                else:
                    fs, ft = (rs, rt) if fsize else (float("nan"), float("nan"))
                row = {"clip": clip, "rate": rate, "target": target, "bytes": js["bytes"],
                       "ratio": js["bytes"] / target, "w": js["width"], "h": js["height"], "fps": js["fps"],
                       "ssim": ss, "psnr": sp, "tssim": st, "r_tssim": rt, "f_tssim": ft,
                       "lossless": bool(js.get("visually_lossless")) or js.get("action") == "copied", "pred": js.get("predicted", {}) if isinstance(js.get("predicted"), dict) else None,
                       "r_ratio": (rsize / target) if rsize else float("nan"), "r_ssim": rs, "r_psnr": rp,
                       "t_s": ts, "t_r": tr, "t_ratio": ts / tr if tr else float("nan"), "attempts": js.get("attempts"),
                       "t_search": js.get("search_seconds") or 0.0,
                       "t_ns_ratio": (ts - (js.get("search_seconds") or 0.0)) / tr if tr else float("nan"),
                       "enc": js.get("encoder") or js.get("codec") or "?",
                       "f_ssim": fs, "f_runs": fruns, "t_f": tf, "tf_ratio": ts / tf if tf else float("nan")}
                rows.append(row)
                print(f"{clip:38s} {rate//1000:4d}k  shrink {row['ratio']:.3f} {row['enc']} {row['w']}x{row['h']}@{row['fps']:.3g} "
                      f"ssim {ss:.4f} temporal {st:.4f} psnr {sp:.2f} {ts:6.1f}s | recipe {row['r_ratio']:.3f} ssim {rs:.4f} "
                      f"temporal {rt:.4f} psnr {rp:.2f} {tr:6.1f}s | time x{row['t_ratio']:.2f} (search {row['t_search']:.1f}s, "
                      f"{row['attempts']} encodes, x{row['t_ns_ratio']:.2f} without) | fitted recipe: {fruns} runs "
                      f"ssim {fs:.4f} temporal {ft:.4f} {tf:6.1f}s x{row['tf_ratio']:.2f}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ok = [r for r in rows if "ssim" in r]
    wins = sum(1 for r in ok if r["ssim"] >= r["r_ssim"] or r["r_ssim"] != r["r_ssim"])
    over = sum(1 for r in ok if r["ratio"] > 1)
    r_over = sum(1 for r in ok if r["r_ratio"] > 1)
    med_t = statistics.median([r["t_ratio"] for r in ok]) if ok else float("nan")
    med_fill = statistics.median([r["ratio"] for r in ok]) if ok else float("nan")
    f_wins = sum(1 for r in ok if r["ssim"] >= r["f_ssim"] or r["f_ssim"] != r["f_ssim"])
    med_tf = statistics.median([r["tf_ratio"] for r in ok]) if ok else float("nan")
    med_ns = statistics.median([r["t_ns_ratio"] for r in ok]) if ok else float("nan")
    # Issue 15's floors: at 400 and 100 kb/s the temporal score at least the fitted recipe's
    # less 0.01 (the recipe as it first came out where it already fit); fill >= 0.93 unless
    # shrink says the output is visually lossless.
    mid = [r for r in ok if r["rate"] >= 100000]
    t_ok = sum(1 for r in mid if not (r["tssim"] < (r["f_tssim"] if r["f_tssim"] == r["f_tssim"] else r["r_tssim"]) - 0.01))
    low_fill = [r for r in ok if r["ratio"] < 0.93 and not r["lossless"]]
    min_fill = min([r["ratio"] for r in ok if not r["lossless"]], default=float("nan"))
    summary = (f"shrink {args.shrink_args or '(default options)'}; load average at the end "
               f"{os.getloadavg()[0]:.1f}; points: {len(ok)} (failed: {len(rows) - len(ok)}); shrink SSIM >= recipe: {wins}/{len(ok)}; "
               f"shrink over target: {over}; recipe over target: {r_over}; median fill {med_fill:.3f}; "
               f"median wall-time ratio shrink/recipe: {med_t:.2f} ({med_ns:.2f} without the search); against the recipe re-run until it fits: "
               f"SSIM >= {f_wins}/{len(ok)}, median wall-time ratio {med_tf:.2f}; temporal >= fitted recipe - 0.01 at "
               f">= 100 kb/s: {t_ok}/{len(mid)}; lowest fill {min_fill:.3f} (below 0.93 and not visually lossless: "
               f"{len(low_fill)})")
    print(summary)
    if args.out:
        write_md(args.out, rows, summary)
        append_md(args.out, crows, xrows, film, finfo)
    return 0


def machine():
    """The machine a table was measured on: host, CPU, cores, system; FFmpeg's version line."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except Exception:
        pass
    ff = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    return f"{platform.node()}, {cpu}, {os.cpu_count()} cores, {platform.platform()}; {ff}"


def write_md(path, rows, summary):
    with open(path, "w") as f:
        f.write("# Benchmarks\n\n")
        f.write("Generated by `make bench` (tests/bench/bench.py). shrink against the usual two-pass recipe:\n"
                "`ffmpeg -c:v libx264 -preset medium -b:v V -pass 1/2` at the source's resolution and frame rate,\n"
                "V = target x 8 / duration - audio bitrate, the same audio as shrink chose (Opus at its bitrate, "
                "or none).\nQuality is luma SSIM and PSNR from FFmpeg's own `ssim`/`psnr` filters at the source's "
                "coded size,\nevery source frame against the picture shown at its time (dropped frames held). "
                "Ratio = output bytes / target.\nTime = wall seconds, the two run one after the other on the same "
                "machine.\n\n")
        f.write(f"Machine: {machine()}.\n"
                f"Date: {time.strftime('%Y-%m-%d')}.\n\n**{summary}**\n\n")
        f.write("The recipe overshoots; \"fitted\" is what its user does next: both passes again at the bitrate\n"
                "scaled by target/size (2% margin), until the file fits (runs counted, time summed).\n\n")
        f.write("\"encodes\" counts shrink's whole-file encodes; \"search s\" is the solver's share of its time, and\n"
                "\"w/o search\" the time ratio without it.\n\n")
        f.write("\"temporal\" is SSIM of frame differences (FFmpeg's tblend grainextract on both sides, then ssim:\n"
                "tests/bench/bench.py temporal()): a held frame has no difference, so judder scores low.\n\n")
        f.write("| clip | budget | shrink ratio | picture | SSIM | temporal | PSNR | s | encodes | search s | recipe ratio | SSIM "
                "| temporal | PSNR | s | time ratio | w/o search | fitted: runs | SSIM | temporal | s | time ratio |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            if "ssim" not in r:
                f.write(f"| {r['clip']} | {r['rate']//1000}k | failed: {r.get('error')} ||||||||||||\n")
                continue
            f.write(f"| {r['clip']} | {r['rate']//1000}k | {r['ratio']:.3f}{' (lossless)' if r['lossless'] else ''} | "
                    f"{r.get('enc', '?')} {r['w']}x{r['h']}@{r['fps']:.3g} | "
                    f"{r['ssim']:.4f} | {r['tssim']:.4f} | {r['psnr']:.2f} | {r['t_s']:.1f} | {r['attempts']} | {r['t_search']:.1f} | "
                    f"{r['r_ratio']:.3f} | {r['r_ssim']:.4f} | {r['r_tssim']:.4f} | "
                    f"{r['r_psnr']:.2f} | {r['t_r']:.1f} | {r['t_ratio']:.2f} | {r['t_ns_ratio']:.2f} | {r['f_runs']} | {r['f_ssim']:.4f} | "
                    f"{r['f_tssim']:.4f} | {r['t_f']:.1f} | {r['tf_ratio']:.2f} |\n")


if __name__ == "__main__":
    sys.exit(main())
