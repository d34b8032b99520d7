#!/usr/bin/python3
"""cu_summary.py LOG [--min-honest N] [--allow-fail]

Count an iscsi-test-cu log honestly: CUnit reports a test that printed
"[SKIPPED]" as passed, so an honest pass is a test that passed without any
[SKIPPED] line. Prints per-suite numbers, every failure, every skip reason,
and exits 1 if any test failed or fewer than N passed honestly.
"""
import argparse
import collections
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("--min-honest", type=int, default=0)
args = ap.parse_args()

tests = []
cur = None
suite = "?"
head = re.compile(r"^  Test: (\S+) \.\.\.(.*)$")
for line in open(args.log, errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^Suite: (\S+)", line)
    if m:
        suite = m.group(1)
        continue
    m = head.match(line)
    if m:
        cur = {"name": suite + "." + m.group(1), "failed": False,
               "passed": False, "skips": [], "why": []}
        tests.append(cur)
        line = m.group(2)
        # "...passed    [SKIPPED] ..." : the result, then output that
        # CUnit printed after it (counted against this test, as
        # ../shared/tools/iscsi-cu-summary does)
        if line.startswith("passed"):
            cur["passed"] = True
    if cur is None:
        continue
    for s in re.findall(r"\[SKIPPED\]\s*(.*)$", line):
        cur["skips"].append(s.strip())
    for s in re.findall(r"\[FAILED\]\s*(.*)$", line):
        cur["why"].append(s.strip())
    if re.search(r"(^|\.\.\.|\s)FAILED\s*$", line):
        cur["failed"] = True
    elif re.search(r"(^|\.\.\.|\s)passed\s*$", line) or line.startswith("passed"):
        cur["passed"] = True

# a test is failed if CUnit said FAILED anywhere in its output
failed = [t for t in tests if t["failed"]]
skipped = [t for t in tests if t["skips"] and not t["failed"]]
honest = [t for t in tests if t["passed"] and not t["failed"] and not t["skips"]]
unknown = [t for t in tests if not t["passed"] and not t["failed"]]

per_suite = collections.OrderedDict()
for t in tests:
    s = t["name"].split(".")[0]
    d = per_suite.setdefault(s, [0, 0, 0])
    if t in failed:
        d[1] += 1
    elif t in skipped:
        d[2] += 1
    elif t["passed"]:
        d[0] += 1
print("suite                      honest failed skipped")
for s, (p, f, k) in per_suite.items():
    print(f"  {s:<24} {p:6d} {f:6d} {k:7d}")
print("FAILED tests:")
for t in failed:
    print(f"  {t['name']}: {t['why'][0] if t['why'] else ''}")
print("skip reasons:")
for r, n in collections.Counter(t["skips"][0] for t in skipped).most_common():
    print(f"  {n:3d}  {r}")
if unknown:
    print("tests without a result (crash or timeout?):")
    for t in unknown:
        print(f"  {t['name']}")
print(f"iscsi-test-cu: {len(tests)} tests, {len(honest)} honest passes, "
      f"{len(failed)} failed, {len(skipped)} skipped, {len(unknown)} without result")
ok = not failed and not unknown and len(honest) >= args.min_honest and tests
if len(honest) < args.min_honest:
    print(f"below the bar: {len(honest)} < {args.min_honest} honest passes")
sys.exit(0 if ok else 1)
