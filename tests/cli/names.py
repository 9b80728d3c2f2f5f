#!/usr/bin/env python3
"""Hostile file names in shrink's output (docs/JSON.md, "Names").

  names.py json FILE [--inputs DIR] [--input PATH]...
      FILE is valid UTF-8 and each line a strict JSON object (no NaN); each
      name (input, output) round-trips by the documented rule: when
      NAME_base64 is there, its bytes are the name, they are not UTF-8 and the
      string is their decoding with U+FFFD; else the string's UTF-8 is the
      name. The inputs are exactly the files of DIR (each as DIR/NAME) or the
      PATHs given; each output exists under its exact name.
  names.py clean FILE... [--expect TEXT]...
      every FILE is valid UTF-8 with no control character but newline (no C0,
      DEL, C1, bidirectional controls); each TEXT appears in one of them.
  names.py plan FILE INPUT
      a plan file: valid UTF-8 JSON whose input path names INPUT's bytes.

Prints one line per problem, exits 1 if any.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import base64
import json
import os
import sys

BAD_POINTS = set(range(0x80, 0xA0)) | {0x061C, 0x200E, 0x200F} | set(range(0x2028, 0x202F)) | set(range(0x2066, 0x206A))


def strict_loads(line):
    def no_constant(c):
        raise ValueError("non-standard constant %s" % c)
    return json.loads(line, parse_constant=no_constant)


def name_of(obj, key, errs, where):
    """The exact bytes a name stands for, by the documented rule (None for null)."""
    s = obj.get(key)
    if s is None:
        if key + "_base64" in obj:
            errs.append("%s: %s_base64 beside a null %s" % (where, key, key))
        return None
    if not isinstance(s, str):
        errs.append("%s: %s is not a string" % (where, key))
        return None
    if key + "_base64" in obj:
        raw = base64.b64decode(obj[key + "_base64"], validate=True)
        try:
            raw.decode("utf-8")
            errs.append("%s: %s_base64 for a name that is UTF-8: %r" % (where, key, raw))
        except UnicodeDecodeError:
            pass
        if raw.decode("utf-8", "replace") != s:
            errs.append("%s: %s %r is not its bytes %r decoded with U+FFFD" % (where, key, s, raw))
        return raw
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        errs.append("%s: %s %r holds lone surrogates" % (where, key, s))
        return None


def cmd_json(args):
    errs, want = [], set()
    path, rest = args[0], args[1:]
    while rest:
        if rest[0] == "--inputs":
            d = os.fsencode(rest[1])
            want |= {os.path.join(d, n) for n in os.listdir(d)}
        elif rest[0] == "--input":
            want.add(os.fsencode(rest[1]))
        rest = rest[2:]
    data = open(path, "rb").read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["stdout is not UTF-8: %s: %r" % (e, data[max(0, e.start - 20):e.start + 20])]
    got = set()
    for i, line in enumerate(l for l in text.split("\n") if l):
        try:
            obj = strict_loads(line)
        except ValueError as e:
            errs.append("line %d is not JSON: %s" % (i, e))
            continue
        raw = name_of(obj, "input", errs, "line %d" % i)
        if raw is not None:
            got.add(raw)
        out = name_of(obj, "output", errs, "line %d" % i)
        if out is not None and not os.path.exists(out):
            errs.append("line %d: output %r is not there" % (i, out))
        if "action" in obj and obj["action"] != "failed" and out is None:
            errs.append("line %d: %s with no output" % (i, obj.get("action")))
    if want and got != want:
        errs.append("inputs named %r, expected %r" % (sorted(got), sorted(want)))
    return errs


def cmd_clean(args):
    errs, files, expect = [], [], []
    while args:
        if args[0] == "--expect":
            expect.append(args[1])
            args = args[2:]
        else:
            files.append(args[0])
            args = args[1:]
    seen = ""
    for f in files:
        data = open(f, "rb").read()
        bad = sorted({b for b in data if (b < 0x20 and b != 0x0A) or b == 0x7F})
        if bad:
            i = min(data.index(bytes([b])) for b in bad)
            errs.append("%s: control bytes %s: %r" % (f, bad, data[max(0, i - 30):i + 30]))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            errs.append("%s: not UTF-8: %r" % (f, data[max(0, e.start - 30):e.start + 30]))
            text = data.decode("utf-8", "replace")
        hidden = sorted({"U+%04X" % ord(c) for c in text if ord(c) in BAD_POINTS})
        if hidden:
            errs.append("%s: control characters %s" % (f, hidden))
        seen += text
    for t in expect:
        if t not in seen:
            errs.append("%r is nowhere in %s" % (t, ", ".join(files)))
    return errs


def cmd_plan(args):
    data = open(args[0], "rb").read()
    try:
        plan = strict_loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["plan is not UTF-8 JSON: %s" % e]
    errs = []
    raw = name_of(plan["input"], "path", errs, "plan input")
    if raw is not None and os.path.realpath(raw) != os.path.realpath(os.fsencode(args[1])):
        errs.append("plan input %r is not %r" % (raw, os.fsencode(args[1])))
    return errs


def main():
    errs = {"json": cmd_json, "clean": cmd_clean, "plan": cmd_plan}[sys.argv[1]](sys.argv[2:])
    for e in errs:
        print(e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
