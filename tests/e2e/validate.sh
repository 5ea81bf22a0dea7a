#!/usr/bin/env bash
# `salesflow validate --json` on the sample files agrees with the counts the
# sample generator computed on its own (expected.json).
source "$(dirname "$0")/lib/common.sh"

DATA="$WORK_DIR/data"
python3 "$SALESFLOW_SOURCE_DIR/scripts/make-sample-data.py" "$DATA" >/dev/null
files=()
while IFS= read -r name; do files+=("$DATA/$name"); done < <(jq -r 'keys[]' "$DATA/expected.json")
status=0
"$SALESFLOW_BINARY" validate --json "${files[@]}" >"$WORK_DIR/report.json" 2>"$WORK_DIR/stderr" || status=$?
expect_eq "exit status 1: some records rejected" 1 "$status"
expect_eq "per-file counts match expected.json" "$(jq -cS . "$DATA/expected.json")" \
  "$(jq -cS --arg d "$DATA/" '.files | map({key: (.file | ltrimstr($d)), value: {records, valid, rejected}}) | from_entries' "$WORK_DIR/report.json")"
expect_eq "no duplicates, no file faults" '[0,0]' \
  "$(jq -c '[([.files[].duplicates] | add), ([.files[].file_faults] | add)]' "$WORK_DIR/report.json")"
expect_eq "formats" '{"large.jsonl":"jsonl","malformed.jsonl":"jsonl","march orders é+1.json":"array","orders-array.json":"array","orders-wrapped.json":"wrapped","orders.jsonl":"jsonl","orders.jsonl.gz":"jsonl"}' \
  "$(jq -cS --arg d "$DATA/" '.files | map({key: (.file | ltrimstr($d)), value: .format}) | from_entries' "$WORK_DIR/report.json")"
expect_eq "the malformed lines are counted as malformed_json" 3 \
  "$(jq '.files[] | select(.file | endswith("/malformed.jsonl")) | .reasons.malformed_json' "$WORK_DIR/report.json")"

# A file of complete records only: exit 0; an unreadable file: exit 2.
python3 "$E2E_LIB/gen.py" "$WORK_DIR/clean.jsonl" 100 --reject-every 1000 >/dev/null
status=0
"$SALESFLOW_BINARY" validate --json "$WORK_DIR/clean.jsonl" >"$WORK_DIR/clean.json" 2>&1 || status=$?
expect_eq "all valid: exit 0" 0 "$status"
expect_eq "all valid: counts" '[100,100,0]' "$(jq -c '.files[0] | [.records, .valid, .rejected]' "$WORK_DIR/clean.json")"
status=0
"$SALESFLOW_BINARY" validate --json "$WORK_DIR/no-such-file.jsonl" >/dev/null 2>&1 || status=$?
expect_eq "missing file: exit 2" 2 "$status"

# Duplicate tracking past its budget: 1 MiB spills 60,000 records to sorted
# runs and still finds every repeat (every 100th) and key clash (every 1000th,
# at 998); a --dedup-dir that cannot hold them fails the file: exit 2, named.
python3 - "$WORK_DIR/repeats.jsonl" <<'PY'
import sys
def record(key, amount):
    return ('{"order-info":{"OrderId":"ORD-%012d","Amount":%d.5},'
            '"contact-info":{"email":"c%d@example.com"}}\n' % (key, amount, key))
with open(sys.argv[1], 'w') as out:
    for i in range(60000):
        if i % 100 == 99:
            out.write(record(i - 50, (i - 50) % 1000))
        elif i % 1000 == 998:
            out.write(record(i - 500, (i - 500) % 1000 + 1))
        else:
            out.write(record(i, i % 1000))
PY
status=0
"$SALESFLOW_BINARY" validate --json --dedup-memory 1 --dedup-dir "$WORK_DIR" "$WORK_DIR/repeats.jsonl" \
  >"$WORK_DIR/repeats.json" 2>&1 || status=$?
expect_eq "spilled: exit 1 (key clashes)" 1 "$status"
expect_eq "spilled: records, duplicates, clashes" '[60000,600,60]' \
  "$(jq -c '.files[0] | [.records, .duplicates, .reasons.duplicate_key]' "$WORK_DIR/repeats.json")"
status=0
SALESFLOW_DEDUP_MEMORY=1 "$SALESFLOW_BINARY" validate --json --dedup-dir "$WORK_DIR/no-such-dir" \
  "$WORK_DIR/repeats.jsonl" >/dev/null 2>"$WORK_DIR/spill.err" || status=$?
expect_eq "unusable --dedup-dir: exit 2" 2 "$status"
expect_eq "unusable --dedup-dir: named on stderr" 1 \
  "$(grep -c 'duplicate tracking: creating a scratch file in .*no-such-dir: No such file or directory' "$WORK_DIR/spill.err")"
