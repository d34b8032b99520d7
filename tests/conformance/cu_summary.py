#!/usr/bin/python3
"""cu_summary.py LOG [--min-honest N] [--select SEL [--exclude REGEX]]
                 [--flagged FILE]

Count an iscsi-test-cu log honestly (run iscsi-test-cu with -V: libiscsi
prints some skips only in verbose mode):

- CUnit reports a test that printed "[SKIPPED]" as passed, so an honest
  pass is a test that passed without any [SKIPPED] line;
- a test that CUnit passed but that printed a "[FAILED]" line is a lead,
  not a verdict (libiscsi's helpers print [FAILED] when a probe gets the
  answer the test then accepts, or when the suite's cleanup after the
  test's result fails): every such test must be classified in the
  --flagged file, or the run fails;
- with --select (iscsi-test-cu's --test argument: comma-separated
  FAMILY[.SUITE[.TEST]]), every test that `iscsi-test-cu --list` names
  under it, less those matching --exclude, must have run and have a
  result: a suite whose setup failed, or an iscsi-test-cu that died
  between tests, fails the run.

Prints per-suite numbers, every failure, every flagged test with its
class, every skip reason, and exits 1 if any test failed, any expected
test did not run, a flagged test is not classified, or fewer than N
passed honestly.
"""
import argparse
import collections
import re
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("--min-honest", type=int, default=0)
ap.add_argument("--select", help="the tests that must run, as iscsi-test-cu's --test")
ap.add_argument("--exclude", help="regex of Suite.Test names left out of --select")
ap.add_argument("--flagged", help="file of classified [FAILED] leads: "
                "REGEX CLASS REASON per line")
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
        cur = None
        continue
    m = head.match(line)
    if m:
        cur = {"name": suite + "." + m.group(1), "failed": False,
               "passed": False, "skips": [], "why": [], "after": []}
        tests.append(cur)
        line = m.group(2)
        # "...passed    [SKIPPED] ..." : the result, then output that
        # CUnit printed after it (the next test's or the suite cleanup's)
        if line.startswith("passed"):
            cur["passed"] = True
    if cur is None:
        continue
    done = cur["passed"] or cur["failed"]
    for s in re.findall(r"\[SKIPPED\]\s*(.*)$", line):
        cur["skips"].append(s.strip())
    for s in re.findall(r"\[FAILED\]\s*(.*)$", line):
        (cur["after"] if done else cur["why"]).append(s.strip())
    if re.search(r"(^|\.\.\.|\s)FAILED\s*$", line):
        cur["failed"] = True
    elif re.search(r"(^|\.\.\.|\s)passed\s*$", line) or line.startswith("passed"):
        cur["passed"] = True

failed = [t for t in tests if t["failed"]]
skipped = [t for t in tests if t["skips"] and not t["failed"]]
honest = [t for t in tests if t["passed"] and not t["failed"] and not t["skips"]]
unknown = [t for t in tests if not t["passed"] and not t["failed"]]
flagged = [t for t in tests if t["passed"] and not t["failed"]
           and (t["why"] or t["after"])]

classes = []
if args.flagged:
    for n, l in enumerate(open(args.flagged), 1):
        l = l.strip()
        if not l or l.startswith("#"):
            continue
        parts = l.split(None, 2)
        if len(parts) < 3:
            sys.exit(f"{args.flagged}:{n}: want REGEX CLASS REASON")
        classes.append((re.compile(parts[0] + r"\Z"), parts[1], parts[2]))

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
unclassified = []
print("passed, but printed [FAILED] (classified in the --flagged file):")
for t in flagged:
    c = next((c for c in classes if c[0].match(t["name"])), None)
    where = "during the test" if t["why"] else "after its result"
    first = (t["why"] or t["after"])[0]
    if c:
        print(f"  {t['name']}: {c[1]}: {first} ({where})")
    else:
        print(f"  {t['name']}: NOT CLASSIFIED: {first} ({where})")
        unclassified.append(t)
print("skip reasons:")
for r, n in collections.Counter(t["skips"][0] for t in skipped).most_common():
    print(f"  {n:3d}  {r}")
if unknown:
    print("tests without a result (crash or timeout?):")
    for t in unknown:
        print(f"  {t['name']}")
missing = []
if args.select:
    sel = args.select.split(",")
    listed = subprocess.run(["iscsi-test-cu", "--list"], capture_output=True,
                            text=True).stdout.split()
    want = sorted({l.split(".", 1)[1] for l in listed
                   if l.count(".") == 2
                   and any(l == x or l.startswith(x + ".") for x in sel)
                   and not (args.exclude
                            and re.search(args.exclude, l.split(".", 1)[1]))})
    if not want:
        print(f"no test of {args.select} in iscsi-test-cu --list")
        missing = [args.select]
    ran = {t["name"] for t in tests}
    lost = [w for w in want if w not in ran]
    extra = sorted(ran - set(want))
    if lost:
        print(f"tests that did not run ({len(lost)} of {len(want)} "
              "selected; a suite's setup failed or iscsi-test-cu died?):")
        for w in lost:
            print(f"  {w}")
    if extra:
        print("tests that ran but were not selected: " + " ".join(extra))
    missing += lost + extra
print(f"iscsi-test-cu: {len(tests)} tests, {len(honest)} honest passes, "
      f"{len(failed)} failed, {len(skipped)} skipped, {len(unknown)} without "
      f"result, {len(flagged)} flagged ({len(unclassified)} unclassified)"
      + (f", {len(missing)} not as selected" if args.select else ""))
ok = (tests and not failed and not unknown and not unclassified
      and not missing and len(honest) >= args.min_honest)
if len(honest) < args.min_honest:
    print(f"below the bar: {len(honest)} < {args.min_honest} honest passes")
sys.exit(0 if ok else 1)
