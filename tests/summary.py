#!/usr/bin/env python3
"""Counts test cases across every test program of a meson run.

Each test prints TAP ("ok N - name" / "not ok N - name"); meson's
testlog.json keeps each program's output. A program that printed no TAP line
counts as one case, passed or failed by its exit status; a program that died
after its last TAP line adds one failure. Prints 'N passed, N failed' last.
"""
import json
import re
import sys

def main(path):
    passed = failed = 0
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout", "") or ""
            oks = len(re.findall(r"^ok\b", out, re.M))
            bad = len(re.findall(r"^not ok\b", out, re.M))
            ok_result = t.get("result") in ("OK", "EXPECTEDFAIL")
            if oks + bad == 0:
                if ok_result:
                    passed += 1
                else:
                    failed += 1
                    print(f"FAILED: {t['name']} ({t.get('result')})")
                continue
            passed += oks
            failed += bad
            if bad:
                for m in re.findall(r"^not ok.*$", out, re.M):
                    print(f"FAILED: {t['name']}: {m}")
            if not ok_result and bad == 0:
                failed += 1
                print(f"FAILED: {t['name']} ({t.get('result')}) after its last case")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
