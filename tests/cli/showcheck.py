#!/usr/bin/env python3
"""Checks of --report's pictures for test_show.sh, standard library only.

  showcheck.py sheet PNG SRC_W SRC_H OUT_W OUT_H
      PNG: a contact sheet of 4 rows, source cells at the left, output cells
      at the right (layout: src/show/sheet.c). It is decoded to gray by the
      ffmpeg program; each cell must not be flat, the rows must differ from
      each other, and each output cell must look like the source cell beside
      it (the same instant), the source brought to the output's size.
  showcheck.py svg SVG [PLAN_JSON]
      SVG: well-formed, one budget line, one chosen mark, a fitted line; with
      PLAN_JSON (shrink --plan --json), one sample dot per measured sample.
Prints what is wrong, one line each; exits 1 when anything is.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

# src/show/sheet.c's layout: margin, gap, font scale and lines.
MARGIN, GAP, LINE_H = 8, 8, 20
TITLE_H = 2 * LINE_H + GAP
ROWS = 4
LABEL_W = {"src": len("SOURCE AT 00:00.0") * 12 - 2, "out": len("SSIM 0.0000 (00.0 DB)") * 12 - 2}

errors = []


def gray(png):
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=codec_name,width,height", "-of", "json", png],
                           capture_output=True, text=True, check=True)
    s = json.loads(probe.stdout)["streams"][0]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", png, "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return s["codec_name"], s["width"], s["height"], raw


def cell(raw, width, x, y, w, h):
    return [raw[(y + j) * width + x + i] for j in range(h) for i in range(w)]


def shrink_to(px, w, h, ow, oh):
    """px (w x h) averaged down to ow x oh, box by box."""
    out = []
    for j in range(oh):
        y0, y1 = j * h // oh, max((j + 1) * h // oh, j * h // oh + 1)
        for i in range(ow):
            x0, x1 = i * w // ow, max((i + 1) * w // ow, i * w // ow + 1)
            vals = [px[y * w + x] for y in range(y0, y1) for x in range(x0, x1)]
            out.append(sum(vals) / len(vals))
    return out


def stdev(v):
    m = sum(v) / len(v)
    return (sum((x - m) ** 2 for x in v) / len(v)) ** 0.5


def mad(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def sheet(png, sw, sh, ow, oh):
    codec, width, height, raw = gray(png)
    if codec != "png":
        errors.append(f"{png}: {codec}, not PNG")
        return
    row_h = max(sh, oh) + 2 * LINE_H + GAP
    want_h = 2 * MARGIN + TITLE_H + ROWS * row_h
    col0 = max(sw, LABEL_W["src"])
    want_w = 2 * MARGIN + col0 + GAP + max(ow, LABEL_W["out"])
    if (width, height) < (want_w, want_h) or width != max(want_w, width) or height != want_h:
        errors.append(f"sheet is {width}x{height}, expected {want_w}x{want_h} for a {sw}x{sh} source "
                      f"and a {ow}x{oh} output")
        return
    if len(raw) != width * height:
        errors.append(f"decoded {len(raw)} bytes, expected {width * height}")
        return
    # Compare at a small common size: cheap in pure python, and enough to tell pictures apart.
    cw, ch = 32, 18
    srcs, outs = [], []
    for r in range(ROWS):
        y = MARGIN + TITLE_H + r * row_h
        s = shrink_to(cell(raw, width, MARGIN, y, sw, sh), sw, sh, cw, ch)
        o = shrink_to(cell(raw, width, MARGIN + col0 + GAP, y, ow, oh), ow, oh, cw, ch)
        for what, v in (("source", s), ("output", o)):
            if stdev(v) < 5:
                errors.append(f"row {r + 1}: the {what} cell is flat (stdev {stdev(v):.2f})")
        d = mad(s, o)
        if d > 12:
            errors.append(f"row {r + 1}: output differs from the source beside it by {d:.1f} (not the same instant?)")
        srcs.append(s)
        outs.append(o)
    for cells, what in ((srcs, "source"), (outs, "output")):
        for a in range(ROWS):
            for b in range(a + 1, ROWS):
                if mad(cells[a], cells[b]) < 0.5:
                    errors.append(f"{what} cells of rows {a + 1} and {b + 1} are the same picture")


def svg(path, plan=None):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        errors.append(f"{path}: not well-formed XML: {e}")
        return
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        errors.append(f"{path}: root is {root.tag}, not svg")
    count = {}
    for e in root.iter():
        c = e.get("class")
        if c:
            count[c] = count.get(c, 0) + 1
    for c, n in (("budget", 1), ("chosen", 1)):
        if count.get(c, 0) != n:
            errors.append(f"{count.get(c, 0)} '{c}' elements, expected {n}")
    if not count.get("fit"):
        errors.append("no fitted line")
    if plan is not None:
        with open(plan) as f:
            p = json.load(f)
        want = sum(1 for c in p["candidates"] for s in c["samples"] if s["bitrate"] > 0 and s["ssim"] > 0)
        if count.get("sample", 0) != want:
            errors.append(f"{count.get('sample', 0)} sample dots, the plan has {want} measured samples")
        if count.get("candidate", 0) != len(p["candidates"]):
            errors.append(f"{count.get('candidate', 0)} candidates drawn, the plan has {len(p['candidates'])}")
    elif not count.get("sample"):
        errors.append("no sample dots")


if __name__ == "__main__":
    if sys.argv[1] == "sheet":
        sheet(sys.argv[2], *map(int, sys.argv[3:7]))
    else:
        svg(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)
