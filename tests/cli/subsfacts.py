#!/usr/bin/env python3
"""What test_subs.sh reads of an output, with one ffprobe and one ffmpeg (each start of
either costs 0.1-0.2 s of CPU: their 200-odd libraries loaded): subsfacts.py FILE DIR
writes into DIR
  streams   "codec,language" of each subtitle stream, one a line
  chapters  "start-end title" of each chapter
  title     the file's title tag
  cues.N    subtitle stream N's cues as "start-end text", seconds from the video's start
            (a Matroska output with Opus starts its video at the pre-skip, ~7 ms)
Not a test itself. SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import os
import re
import subprocess
import sys


def write(path, lines):
    with open(path, "w") as f:
        f.write("".join(x + "\n" for x in lines))


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    p = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_chapters", "-show_entries",
                        "stream=index,codec_type,codec_name,start_time:stream_tags=language:format_tags=title", src],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    d = json.loads(p.stdout or "{}")
    streams = d.get("streams", [])
    subs = [s for s in streams if s.get("codec_type") == "subtitle"]
    write(os.path.join(out, "streams"),
          [",".join([s.get("codec_name", "")] + ([s["tags"]["language"]] if "language" in s.get("tags", {}) else []))
           for s in subs])
    write(os.path.join(out, "chapters"),
          ["%.3f-%.3f %s" % (float(c["start_time"]), float(c["end_time"]), c.get("tags", {}).get("title", ""))
           for c in d.get("chapters", [])])
    title = (d.get("format", {}).get("tags") or {}).get("title")
    write(os.path.join(out, "title"), [title] if title is not None else [])
    vs = [s for s in streams if s.get("codec_type") == "video"]
    v = float(vs[0].get("start_time") or 0) if vs and vs[0].get("start_time") not in (None, "N/A") else 0
    # Every subtitle stream to SubRip in one ffmpeg run, each its own output.
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src]
    for i in range(len(subs)):
        cmd += ["-map", "0:s:%d" % i, "-f", "srt", os.path.join(out, "srt.%d" % i)]
    if subs:
        subprocess.run(cmd, stdin=subprocess.DEVNULL)
    t = lambda h, m, s, ms: int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 - v
    for i in range(len(subs)):
        try:
            text = open(os.path.join(out, "srt.%d" % i), encoding="utf-8", errors="replace").read()
        except OSError:
            text = ""
        lines = []
        for block in text.strip().split("\n\n"):
            bl = block.strip().split("\n")
            m = re.match(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)", bl[1]) if len(bl) > 2 else None
            if m:
                g = m.groups()
                lines.append("%.3f-%.3f %s" % (t(*g[:4]), t(*g[4:]), " ".join(bl[2:])))
        write(os.path.join(out, "cues.%d" % i), lines)


if __name__ == "__main__":
    main()
