#!/usr/bin/env python3
"""What the demo's salesflow did, from its "object finished" log lines
(scripts/demo.sh). The worker's log is JSON lines; the local Lambda's function
log prefixes each line with the time, the environment and the request id
(tab-separated), so a line's JSON starts at its first "{".

  demo-summary.py LOG EXPECTED RUN_S RUN_WHAT   the table, the reasons, OK or
                                                MISMATCH (exit 0 or 1)
  demo-summary.py --settled LOG EXPECTED        exit 0 once every file of
                                                EXPECTED has its completed line
"""
import json
import sys


def completed_rows(log):
    """The last completed object line of each key (without incoming/)."""
    rows = {}
    for line in open(log, encoding="utf-8", errors="replace"):
        start = line.find("{")
        if start < 0:
            continue
        try:
            entry = json.loads(line[start:])
        except ValueError:
            continue  # a line still being written
        if entry.get("msg") == "object finished" and entry.get("status") == "completed":
            rows[entry["key"].removeprefix("incoming/")] = entry
    return rows


def summary(log, expected_path, run_s, run_what):
    rows = completed_rows(log)
    reasons = {}
    for entry in rows.values():
        for code, count in entry.get("reasons", {}).items():
            reasons[code] = reasons.get(code, 0) + count
    expected = json.load(open(expected_path, encoding="utf-8"))
    cols = ("records", "written", "rejected", "duplicates")
    width = max(len(k) for k in list(expected) + ["file"]) + 2
    print(f"{'file':<{width}}" + "".join(f"{c:>11}" for c in cols) + f"{'records/s':>12}")
    totals = dict.fromkeys(cols, 0)
    for key in sorted(rows):
        e = rows[key]
        print(f"{key:<{width}}" + "".join(f"{e[c]:>11}" for c in cols) + f"{e['records_per_s']:>12.0f}")
        for c in cols:
            totals[c] += e[c]
    print(f"{'total':<{width}}" + "".join(f"{totals[c]:>11}" for c in cols)
          + f"{totals['records'] / run_s:>12.0f}")
    print(f"\nthroughput: {totals['records']} records in {run_s:.1f} s {run_what} "
          f"= {totals['records'] / run_s:.0f} records/s")
    print("\nrejection reasons (a record with two reasons counts under both):")
    for code, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  {code:<16}{count:>8}")
    mismatches = []
    for key, want in sorted(expected.items()):
        got = rows.get(key)
        if got is None:
            mismatches.append(f"{key}: not processed")
        elif (got["records"], got["written"], got["rejected"]) != (want["records"], want["valid"], want["rejected"]):
            mismatches.append(f"{key}: records/written/rejected {got['records']}/{got['written']}/"
                              f"{got['rejected']}, expected {want['records']}/{want['valid']}/{want['rejected']}")
    want_totals = [sum(w[c] for w in expected.values()) for c in ("records", "valid", "rejected")]
    print(f"\nexpected (scripts/make-sample-data.py): records {want_totals[0]}, "
          f"valid {want_totals[1]}, rejected {want_totals[2]}")
    if mismatches:
        print("MISMATCH")
        for m in mismatches:
            print("  " + m)
        return 1
    print("OK: every file's records, written and rejected counts match")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--settled":
        expected = json.load(open(sys.argv[3], encoding="utf-8"))
        sys.exit(0 if set(expected) <= set(completed_rows(sys.argv[2])) else 1)
    sys.exit(summary(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
