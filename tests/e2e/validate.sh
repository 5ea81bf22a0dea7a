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
