#!/usr/bin/env bash
# Peak RSS and throughput of `salesflow validate` against the record count,
# with duplicate tracking bounded (--dedup-memory) and unbounded (0).
#   scripts/bench-dedup-memory.sh [BUILD_DIR]
# DEDUP_COUNTS: record counts (default "100000 1000000 10000000 50000000");
# DEDUP_BUDGETS: --dedup-memory values in MiB (default "64 0");
# DEDUP_DATA_DIR: where the generated files go (default: a new directory in
# /var/tmp; each file is deleted once measured). Spilled runs go to $TMPDIR
# (default /tmp).
# Records are ~105-byte JSON Lines, valid under the default rules: every 100th
# a byte-identical repeat of the record 50 before it, every 1000th (at 998) a
# different record with the key of the one 500 before it. Each run is checked
# to find exactly those duplicates and key clashes.
# Prints one markdown row per run: records, budget, peak RSS (MiB,
# /usr/bin/time %M), wall s, user+sys s, records/s, MB/s.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$build/salesflow
[[ -x $binary ]] || { echo "bench-dedup-memory: no $binary" >&2; exit 2; }
counts=${DEDUP_COUNTS:-100000 1000000 10000000 50000000}
budgets=${DEDUP_BUDGETS:-64 0}
if [[ -n ${DEDUP_DATA_DIR:-} ]]; then
  data=$DEDUP_DATA_DIR
  mkdir -p "$data"
  trap 'rm -f "$data"/dedup-*.jsonl "$data"/validate-*.out "$data"/validate-*.out.time' EXIT
else
  data=$(mktemp -d /var/tmp/salesflow-dedup-XXXXXX)
  trap 'rm -rf "$data"' EXIT
fi

generate() {  # COUNT FILE
  python3 - "$1" "$2" <<'EOF'
import sys
count, path = int(sys.argv[1]), sys.argv[2]
def record(i, key, amount):
    return ('{"order-info":{"OrderId":"ORD-%012d","Amount":%d.5},'
            '"contact-info":{"email":"c%d@example.com"}}\n' % (key, amount, key))
with open(path, 'w', buffering=1 << 22) as out:
    lines = []
    for i in range(count):
        if i % 100 == 99:
            j = i - 50
            lines.append(record(j, j, j % 1000))
        elif i % 1000 == 998:
            j = i - 500
            lines.append(record(i, j, j % 1000 + 1))
        else:
            lines.append(record(i, i, i % 1000))
        if len(lines) == 100000:
            out.write(''.join(lines))
            lines.clear()
    out.write(''.join(lines))
EOF
}

echo "| records | --dedup-memory | peak RSS | wall | user+sys | records/s | MB/s |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for count in $counts; do
  file=$data/dedup-$count.jsonl
  generate "$count" "$file"
  bytes=$(stat -c %s "$file")
  want_duplicates=$((count / 100))
  want_clashes=$(((count + 1) / 1000))
  for budget in $budgets; do
    out=$data/validate-$count-$budget.out
    /usr/bin/time -f '%M %e %U %S' -o "$out.time" \
      "$binary" validate --json --dedup-memory "$budget" "$file" > "$out" || [[ $? == 1 ]]
    read -r rss_kib wall user sys < <(tail -n 1 "$out.time")
    python3 - "$out" "$count" "$want_duplicates" "$want_clashes" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))["files"][0]
count, duplicates, clashes = map(int, sys.argv[2:5])
got = (report["records"], report["duplicates"], report["reasons"]["duplicate_key"])
if got != (count, duplicates, clashes) or report["rejected"] != clashes:
    sys.exit(f"bench-dedup-memory: MISMATCH: records/duplicates/clashes {got}, "
             f"wanted {(count, duplicates, clashes)}")
EOF
    awk -v n="$count" -v b="$budget" -v rss="$rss_kib" -v wall="$wall" -v user="$user" \
      -v sys="$sys" -v bytes="$bytes" 'BEGIN {
        printf "| %\047d | %s | %.0f MiB | %.1f s | %.1f s | %\047d | %.0f |\n",
          n, (b == 0 ? "0 (no bound)" : b " MiB"), rss / 1024, wall, user + sys,
          n / wall, bytes / wall / 1e6 }'
  done
  rm -f "$file"
done
