#!/usr/bin/env python3
"""shrink --json output for a batch: one JSON object per line, one line per
input. The schema checked here is the one docs/JSON.md describes.

  jsonl.py check FILE [N]       every line is an object of the schema (and there are N);
                                prints one line per problem, exits 1 if any
  jsonl.py get FILE I KEY[.SUB] the value in line I (from 0): strings raw, null as "null"
  jsonl.py count FILE           the number of lines

SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import os
import sys

ACTIONS = ("shrunk", "copied", "skipped-existing", "skipped-fitting", "failed")
NUM = (int, float)


def load(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return [json.loads(l) for l in text.split("\n") if l.strip()]


ROI_KEYS = ("mode", "detector", "looks", "looks_with_faces", "share", "regions", "strength",
            "predicted_face_ssim_db", "predicted_face_ssim_db_without", "predicted_score_db",
            "predicted_score_db_without", "measured_face_ssim", "detect_seconds", "reason")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_one(o, i):
    errs = []

    def e(msg):
        errs.append("line %d: %s" % (i, msg))

    if not isinstance(o, dict):
        return ["line %d: not an object" % i]

    def want(key, ok, what):
        if key not in o:
            e("no key %s" % key)
        elif not ok(o[key]):
            e("%s is %r, expected %s" % (key, o[key], what))

    nullable = lambda f: (lambda v: v is None or f(v))
    want("input", lambda v: isinstance(v, str), "a string")
    want("output", nullable(lambda v: isinstance(v, str)), "a string or null")
    want("action", lambda v: v in ACTIONS, "one of " + ", ".join(ACTIONS))
    want("preset", nullable(lambda v: isinstance(v, str)), "a string or null")
    for k in ("target", "input_bytes", "bytes", "width", "height", "video_bitrate"):
        want(k, nullable(lambda v: is_int(v) and v > 0), "a positive integer or null")
    for k in ("ratio", "fps", "duration"):
        want(k, nullable(lambda v: isinstance(v, NUM) and v > 0), "a positive number or null")
    want("codec", nullable(lambda v: isinstance(v, str)), "a string or null")
    want("audio", nullable(lambda v: isinstance(v, dict) and isinstance(v.get("codec"), str)
                           and all(k in v for k in ("bitrate", "channels"))),
         "null or {codec, bitrate, channels}")
    want("audio_kind", lambda v: v in (None, "speech", "music", "silence"), "null, speech, music or silence")
    want("audio_reason", nullable(lambda v: isinstance(v, str) and v), "a sentence or null")
    for k in ("predicted", "measured"):
        want(k, nullable(lambda v: isinstance(v, dict) and set(v) == {"ssim", "temporal_ssim", "psnr"}
                         and all(x is None or isinstance(x, NUM) for x in v.values())),
             "null or {ssim, temporal_ssim, psnr}")
    for k in ("sheet", "plot"):
        want(k, nullable(lambda v: isinstance(v, str) and v), "a file name or null")
    want("visually_lossless", lambda v: isinstance(v, bool), "true or false")
    want("attempts", lambda v: is_int(v) and v >= 0, "an integer >= 0")
    want("seconds", nullable(lambda v: isinstance(v, NUM) and v >= 0), "a number >= 0 or null")
    want("search_seconds", nullable(lambda v: isinstance(v, NUM) and v > 0 and
                                    isinstance(o.get("seconds"), NUM) and v <= o["seconds"] + 0.01),
         "null or a number > 0, at most seconds")
    for k in ("decode_seconds", "time_budget", "expected_seconds"):
        want(k, nullable(lambda v: isinstance(v, NUM) and v > 0), "null or a number > 0")
    want("encoder_preset", lambda v: v in (None, "final", "quick"), "null, final or quick")
    want("roi", nullable(lambda v: isinstance(v, dict) and v.get("mode") in ("auto", "faces", "off")
                         and isinstance(v.get("regions"), bool) and isinstance(v.get("reason"), str)
                         and all(k in v for k in ROI_KEYS)),
         "null or {mode, regions, reason, ...}")
    want("exit", lambda v: is_int(v) and v >= 0, "an exit code")
    want("error", nullable(lambda v: isinstance(v, str) and v), "a message or null")
    if errs:
        return errs
    failed = o["action"] == "failed"
    if failed != (o["error"] is not None) or failed != (o["exit"] != 0):
        e("action %s, exit %s, error %r disagree" % (o["action"], o["exit"], o["error"]))
    if failed and o["output"] is not None:
        e("failed, but output is %r" % o["output"])
    if (o["time_budget"] is None) != (o["decode_seconds"] is None):
        e("time_budget %r without decode_seconds %r" % (o["time_budget"], o["decode_seconds"]))
    if o["expected_seconds"] is not None and o["time_budget"] is None:
        e("expected_seconds without a time budget")
    r = o["roi"]
    if r is not None:
        if r["mode"] == "off" and (r["regions"] or r["looks"] is not None):
            e("roi off, but regions %r and looks %r" % (r["regions"], r["looks"]))
        if r["regions"] != (r["strength"] is not None and r["strength"] > 0):
            e("roi regions %r but strength %r" % (r["regions"], r["strength"]))
        if r["regions"] != r["reason"].startswith("on"):
            e("roi regions %r but the reason says %r" % (r["regions"], r["reason"]))
        if r["looks_with_faces"] is not None and not 0 <= r["looks_with_faces"] <= (r["looks"] or 0):
            e("roi: %r looks with faces of %r" % (r["looks_with_faces"], r["looks"]))
        if r["share"] is not None and not 0 < r["share"] <= 1:
            e("roi share %r" % r["share"])
    if "min_bytes" in o and o["error"] != "target too small":
        e("min_bytes without 'target too small'")
    if o["action"] in ("shrunk", "copied"):
        if o["output"] is None or o["bytes"] is None:
            e("%s without output and bytes" % o["action"])
        elif os.path.isfile(o["output"]) and os.path.getsize(o["output"]) != o["bytes"]:
            e("bytes %d, but %s has %d" % (o["bytes"], o["output"], os.path.getsize(o["output"])))
        if o["target"] and o["bytes"] and o["bytes"] > o["target"]:
            e("bytes %d over the target %d" % (o["bytes"], o["target"]))
        if o["ratio"] is None or abs(o["ratio"] - o["bytes"] / o["target"]) > 0.0001:
            e("ratio %r is not bytes/target" % o["ratio"])
        for k in ("codec", "width", "height", "duration"):
            if o[k] is None:
                e("%s is null for a file that is there" % k)
    if o["action"] == "skipped-existing" and o["output"] is None:
        e("skipped-existing without the output's name")
    return errs


def fmt(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def main():
    a = sys.argv[1:]
    try:
        if a and a[0] == "check" and len(a) in (2, 3):
            try:
                objs = load(a[1])
            except (ValueError, UnicodeDecodeError) as ex:
                print("not JSON lines: %s" % ex)
                return 1
            errs = []
            if len(a) == 3 and len(objs) != int(a[2]):
                errs.append("%d lines, expected %s" % (len(objs), a[2]))
            for i, o in enumerate(objs):
                errs += check_one(o, i)
            for m in errs:
                print(m)
            return 1 if errs else 0
        if a and a[0] == "get" and len(a) == 4:
            cur = load(a[1])[int(a[2])]
            for part in a[3].split("."):
                if not isinstance(cur, dict) or part not in cur:
                    return 1
                cur = cur[part]
            print(fmt(cur))
            return 0
        if a and a[0] == "count" and len(a) == 2:
            print(len(load(a[1])))
            return 0
    except (ValueError, UnicodeDecodeError, IndexError, OSError) as ex:
        print("jsonl.py: %s" % ex, file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
