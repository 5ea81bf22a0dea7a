#!/usr/bin/env bash
# `salesflow process s3://bucket/prefix --recursive`: a backfill without the
# queue gives exact counts for every object under the prefix and touches none
# outside it; a second run skips every object (the ledger knows them done).
source "$(dirname "$0")/lib/common.sh"

sf_init
mkdir -p "$WORK_DIR/up/backfill/2024" "$WORK_DIR/up/other"
generate "$WORK_DIR/up/backfill/a.jsonl" "backfill/a.jsonl" 700 --reject-every 9 --prefix A
generate "$WORK_DIR/up/backfill/2024/b.json" "backfill/2024/b.json" 300 --reject-every 4 --prefix B --format array
generate "$WORK_DIR/up/backfill/2024/c d+é.json.gz" "backfill/2024/c d+é.json.gz" 400 --reject-every 5 --prefix C --format wrapped --gzip
python3 "$E2E_LIB/gen.py" "$WORK_DIR/up/other/x.jsonl" 50 --prefix X >/dev/null
upload_tree "$WORK_DIR/up"

sf process "s3://$BUCKET/backfill/" --recursive >"$WORK_DIR/first.log" 2>&1 || {
  cat "$WORK_DIR/first.log"
  fail "first process run exited $?"
}
ok "first run exits 0"
expect_eq "first run finished every object under the prefix" \
  '["backfill/2024/b.json","backfill/2024/c d+é.json.gz","backfill/a.jsonl"]' \
  "$(log_objects "$WORK_DIR/first.log" | jq -sc 'map(select(.status == "completed") | .key) | sort')"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/first.log"

status=0
sf process "s3://$BUCKET/backfill/" --recursive >"$WORK_DIR/second.log" 2>&1 || status=$?
expect_eq "second run exit status" 0 "$status"
expect_eq "second run processed nothing" 0 "$(log_objects "$WORK_DIR/second.log" | grep -c . || true)"
expect_eq "second run skipped every object as done" 3 \
  "$(log_objects "$WORK_DIR/second.log" "object skipped" | jq -s 'map(select(.reason == "already done")) | length')"
# The DLQ was drained (made invisible) by the first check; what is visible now
# would be new envelopes from the second run.
drain_queue "$DLQ" "$WORK_DIR/dlq-second.jsonl"
expect_eq "second run sent no envelope" 0 "$(grep -c . "$WORK_DIR/dlq-second.jsonl" || true)"
expect_eq "table unchanged" \
  "$(jq '[.[].valid] | add' "$WORK_DIR/expected.json")" \
  "$(ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count)"

status=0
sf process "s3://$BUCKET/no-such-prefix/" --recursive >"$WORK_DIR/empty.log" 2>&1 || status=$?
expect_eq "an empty prefix is no error" 0 "$status"
status=0
sf process "s3://$BUCKET" >"$WORK_DIR/usage.log" 2>&1 || status=$?
expect_eq "a bucket without --recursive is a usage error" 2 "$status"
