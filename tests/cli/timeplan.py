"""timeplan.py PLAN.json FACTOR: check a long film's --plan --json against the
time budget's rule (src/solver/timing.c), recomputed from the plan's own numbers:
the budget is FACTOR x the measured decode, at least three choices were timed,
and the chosen one is the best score once each doubling of its predicted time
past the budget has cost 1.5 dB. Prints why and exits 1 when not.
SPDX-License-Identifier: GPL-3.0-or-later
"""
import json
import math
import sys


p = json.loads(open(sys.argv[1]).read())
factor = float(sys.argv[2])
def fail(m):
    print(m)
    sys.exit(1)
d, b = p["decode_seconds"], p["time_budget"]
if not d > 0:
    fail("no decode time measured: %r" % d)
if abs(b - factor * d) > 0.05 + 0.01 * b:
    fail("budget %.2f is not %.1f x the decode %.2f" % (b, factor, d))
ch = p["chosen"]
if not ch["expected_seconds"] > 0:
    fail("no expected time for the choice")
opts = []
for c in p["candidates"]:
    for k, name, score in ((0, "final", c.get("final_score_db")), (1, "quick", c.get("quick_score_db"))):
        t = c.get("expected_seconds", [0, 0])[k]
        if t > 0 and score:
            # the speed cost as the solver ranks (the lossless cap is never reached here);
            # the JSON rounds the times to 0.1 s: 0.02 dB of slack below
            eff = score - c["speed_cost_db"] - (1.5 * math.log2(t / b) if t > b else 0)
            opts.append((eff, c["encoder"], c["width"], c["height"], name, t))
if len(opts) < 3:
    fail("fewer than 3 choices timed: %r" % opts)
best = max(opts)
got = [o for o in opts if (o[1], o[2], o[3], o[4]) == (ch["encoder"], ch["width"], ch["height"], ch["preset"])]
if not got or got[0][0] < best[0] - 0.02 or abs(got[0][5] - ch["expected_seconds"]) > 0.2:
    fail("chose %s %dx%d %s, the best is %r" % (ch["encoder"], ch["width"], ch["height"], ch["preset"], best))
