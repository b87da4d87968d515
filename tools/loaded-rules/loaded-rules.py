#!/usr/bin/env python3
"""Writes the rules of FILES that mirador loads, one per line, to OUT.

For like-for-like benchmarks against Suricata: both engines then get the
same rule set. `mirador check-rules --verbose` names every rule it skips by
file and line; this keeps the active rule lines it does not name.

    tools/loaded-rules/loaded-rules.py target/release/mirador OUT.rules FILES...
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    mirador, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    report = subprocess.run(
        [mirador, "check-rules", "--verbose", *files],
        capture_output=True, text=True, check=True,
    )
    report = report.stdout + report.stderr
    skipped = set()
    for line in report.splitlines():
        m = re.match(r"^(.+?):(\d+): ", line)
        if m:
            skipped.add((m.group(1), int(m.group(2))))
    rule = re.compile(r"^(alert|drop|reject|rejectsrc|rejectdst|rejectboth|pass)\s")
    kept = []
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if rule.match(line) and (f, n) not in skipped:
                    kept.append(line.rstrip("\n"))
    with open(out, "w") as fh:
        fh.write("\n".join(kept) + "\n")
    print(f"{len(kept)} rules to {out}")


if __name__ == "__main__":
    main()
