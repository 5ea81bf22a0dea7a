#!/usr/bin/env bash
# Files written by `jq .` (pretty-printed records one after another) through
# the real worker: plain with a truncated document in the middle, and gzip.
# Every record lands in the table or the DLQ; the damaged document is one
# file-level fault with its exact byte range; envelopes carry the line each
# record starts on.
source "$(dirname "$0")/lib/common.sh"

sf_init
mkdir -p "$WORK_DIR/up"
counts=$(python3 "$E2E_LIB/gen.py" "$WORK_DIR/a.jsonl" 1200 --reject-every 7 --prefix CA) ||
  fail "generating a.jsonl"
jq . "$WORK_DIR/a.jsonl" >"$WORK_DIR/a.pretty" || fail "jq . a.jsonl"
# Cut after the 600th document: a truncated record, then the rest goes on.
damage='{\n  "order-info": {\n    "OrderId": "CA-cut",\n    "qty'
python3 - "$WORK_DIR/a.pretty" "$WORK_DIR/up/damaged.json" "$damage" >"$WORK_DIR/range" <<'EOF'
import sys
text = open(sys.argv[1], "rb").read()
damage = sys.argv[3].encode().decode("unicode_escape").encode() + b"\n"
at = 0
for _ in range(600):
    at = text.index(b"\n}\n", at) + 3
open(sys.argv[2], "wb").write(text[:at] + damage + text[at:])
print(f"{at} {at + len(damage)}")
EOF
read -r fault_begin fault_end <"$WORK_DIR/range"
jq -n --argjson c "$counts" '{"damaged.json": {records: ($c.records + 1), valid: $c.valid,
  rejected: ($c.rejected + 1)}, "pretty.json.gz": $c}' >"$WORK_DIR/expected.json"
# Other OrderIds, so that the two files' items do not overwrite each other.
sed 's/"CA-/"CB-/' "$WORK_DIR/a.pretty" | gzip -c >"$WORK_DIR/up/pretty.json.gz"
upload_tree "$WORK_DIR/up"

start_worker worker --exit-when-idle 3 --visibility-timeout 30
wait_exit "$WORKER_PID" 60 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "formats detected" '{"damaged.json":"concatenated","pretty.json.gz":"concatenated"}' \
  "$(log_objects "$WORK_DIR/worker.log" | jq -sSc 'map({(.key): .format}) | add')"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"

expect_eq "the damaged document is one file fault with its byte range" \
  "[{\"begin\":$fault_begin,\"end\":$fault_end,\"records_before\":600}]" \
  "$(jq -sc 'map(.Body | fromjson | select(.kind == "file_fault") | .fault)' "$WORK_DIR/dlq.jsonl")"
# Record 6 (0-based) is the first incomplete one; jq prints the complete
# records in 11 lines and the incomplete ones in 6, so it starts on line 67.
expect_eq "an envelope carries the line its record starts on" '{"index":6,"line":67}' \
  "$(jq -c '.Body | fromjson | select(.source.key == "pretty.json.gz" and .kind == "record" and .record.index == 6) | {index: .record.index, line: .record.line}' "$WORK_DIR/dlq.jsonl")"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
