#!/usr/bin/env bash
# The correction loop from the terminal (docs/correction.md): `dlq export`
# consumes nothing and offers each raw record as a fixable `value`; fixes made
# with jq are replayed by `dlq replay` (validated by the same rules, written
# with the original source's metadata and _corrected_at, the DLQ message
# deleted only after the write); a second replay changes nothing; a replay
# killed between the table write and the DLQ delete leaves the item and the
# message, and the next replay settles it without a second item; `dlq
# discard` deletes only what it audited first. At the end every record of the
# input is exactly once in the table, the DLQ or the audit file. Read back with
# /usr/bin/aws and the SQS JSON protocol, never with salesflow.
source "$(dirname "$0")/lib/common.sh"

sf_init
ddb_item() { # ORDER-ID -> the item as JSON ({} when absent)
  ddb get-item --table-name "$TABLE" --consistent-read --output json \
    --key "$(jq -cn --arg id "$1" '{OrderId: {S: $id}}')" | jq -sc '.[0].Item // {}'
}
table_count() { ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count; }
# The CLI prints nothing at all for an empty listing.
offload_count() { s3 s3api list-objects-v2 --bucket "$OFFLOAD_BUCKET" --output json | jq -s '[.[].Contents[]?] | length'; }

# 40 generated records, 10 without contact-info; one ~100 KB record without it
# (offloaded with a 64 KiB message limit); one line that is not JSON.
generate "$WORK_DIR/orders.jsonl" orders.jsonl 40 --reject-every 4 --prefix FIX
python3 - "$WORK_DIR/orders.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"order-info": {"OrderId": "FIX-big", "notes": "n" * 100_000}}) + "\n")
    f.write('{"order-info": {"OrderId": "FIX-broken"}, "contact-info": {"email": "b@example.com"\n')
PY
upload "$WORK_DIR/orders.jsonl" orders.jsonl
sf process --dlq-max-message-bytes 65536 "s3://$BUCKET/orders.jsonl" >"$WORK_DIR/process.log" 2>&1 ||
  fail "process: $(tail -3 "$WORK_DIR/process.log")"
expect_eq "the table holds the 30 complete records" 30 "$(table_count)"
expect_eq "the DLQ holds 12 envelopes" 12 "$(queue_depth "$DLQ")"
expect_eq "one envelope is offloaded" 1 \
  "$(offload_count)"

# ---- export
sf dlq export -o "$WORK_DIR/export.jsonl" 2>"$WORK_DIR/export.err" || fail "dlq export: $(cat "$WORK_DIR/export.err")"
expect_eq "export writes one line per envelope" 12 "$(grep -c . "$WORK_DIR/export.jsonl")"
expect_eq "export consumed nothing" 12 "$(queue_depth "$DLQ")"
expect_match "export says what it did" "exported 12 envelopes from 12 messages" "$(cat "$WORK_DIR/export.err")"
expect_eq "every line but the broken record's has a value" 11 \
  "$(jq -c 'select(has("value"))' "$WORK_DIR/export.jsonl" | grep -c .)"
expect_eq "the offloaded envelope is exported whole, raw text and value" "100000" \
  "$(jq -r 'select(.value["order-info"].OrderId == "FIX-big") | .value["order-info"].notes | length' "$WORK_DIR/export.jsonl")"
expect_eq "a value is the raw record" "true" \
  "$(jq -r 'select(.value["order-info"].OrderId == "FIX-00000003") | (.raw | fromjson) == .value' "$WORK_DIR/export.jsonl")"
sf dlq export --reason malformed_json >"$WORK_DIR/malformed.jsonl" 2>/dev/null || fail "export --reason"
expect_eq "--reason filters" "malformed_json" "$(jq -r '.reasons[0].code' "$WORK_DIR/malformed.jsonl")"
expect_eq "--limit bounds the lines" 3 "$(sf dlq export --limit 3 2>/dev/null | grep -c .)"
expect_eq "--source filters by s3://bucket/prefix" 0 \
  "$(sf dlq export --source "s3://$BUCKET/elsewhere/" 2>/dev/null | grep -c . || true)"
expect_eq "--since filters by time" 0 "$(sf dlq export --since 2999-01-01 2>/dev/null | grep -c . || true)"
expect_eq "--since takes a prefix of the timestamps' layout" 12 \
  "$(sf dlq export --since 2020-01-01T00:00 2>/dev/null | grep -c .)"
status=0
sf dlq export --since yesterday >/dev/null 2>"$WORK_DIR/since.err" || status=$?
expect_eq "--since refuses what it cannot compare" 2 "$status"
expect_match "and says what it wants" "ISO-8601 UTC time like 2024-05-01" "$(cat "$WORK_DIR/since.err")"
expect_eq "the looks consumed nothing" 12 "$(queue_depth "$DLQ")"

# ---- fixes: five records get their contact, one gets an empty e-mail (still
# invalid), the broken line's raw text is repaired, the big one gets a contact.
jq -c 'select(.value["order-info"].OrderId | IN("FIX-00000003","FIX-00000007","FIX-00000011","FIX-00000015","FIX-00000019"))
       | .value["contact-info"] = {"email": "fixed@example.com"}' "$WORK_DIR/export.jsonl" >"$WORK_DIR/fixes.jsonl"
jq -c 'select(.value["order-info"].OrderId == "FIX-big") | .value["contact-info"] = {"phone": "+1 555 0100"}' \
  "$WORK_DIR/export.jsonl" >>"$WORK_DIR/fixes.jsonl"
jq -c 'select(.reasons[0].code == "malformed_json")
       | .raw = "{\"order-info\": {\"OrderId\": \"FIX-broken\"}, \"contact-info\": {\"email\": \"b@example.com\"}}"' \
  "$WORK_DIR/export.jsonl" >>"$WORK_DIR/fixes.jsonl"
jq -c 'select(.value["order-info"].OrderId == "FIX-00000023") | .value["contact-info"] = {"email": " "}' \
  "$WORK_DIR/export.jsonl" >"$WORK_DIR/still-invalid.jsonl"
cat "$WORK_DIR/fixes.jsonl" "$WORK_DIR/still-invalid.jsonl" >"$WORK_DIR/all-fixes.jsonl"
expect_eq "eight corrections" 8 "$(grep -c . "$WORK_DIR/all-fixes.jsonl")"

# ---- dry run: validates, touches nothing
status=0
sf dlq replay --dry-run --json "$WORK_DIR/all-fixes.jsonl" >"$WORK_DIR/dry.json" 2>"$WORK_DIR/dry.err" || status=$?
expect_eq "a dry run with a still-invalid fix exits 1" 1 "$status"
expect_eq "dry run: 7 would replay, 1 still invalid" '{"still_invalid":1,"would_replay":7}' \
  "$(jq -c .by_status "$WORK_DIR/dry.json")"
expect_eq "dry run shows the item it would write, with the source's metadata" "s3://$BUCKET/orders.jsonl" \
  "$(jq -r '.results[0].item._source.S' "$WORK_DIR/dry.json")"
expect_eq "dry run names the new reason" "empty /contact-info/email" \
  "$(jq -r '.results[] | select(.status == "still_invalid") | .reasons[] | .code + " " + .path | select(startswith("empty"))' "$WORK_DIR/dry.json")"
expect_eq "dry run wrote nothing" 30 "$(table_count)"
expect_eq "dry run deleted nothing" 12 "$(queue_depth "$DLQ")"

# ---- replay
status=0
sf dlq replay "$WORK_DIR/all-fixes.jsonl" >"$WORK_DIR/replay.out" 2>&1 || status=$?
expect_eq "replay with a still-invalid fix exits 1" 1 "$status"
expect_match "replay prints the still-invalid record's reasons" \
  "still_invalid.*"$'\n'".*empty /contact-info/email" "$(cat "$WORK_DIR/replay.out")"
expect_match "replay summarises" "8 corrections: 7 replayed, 1 still_invalid" "$(cat "$WORK_DIR/replay.out")"
expect_eq "the table holds the seven corrected records" 37 "$(table_count)"
expect_eq "their seven DLQ messages are gone, the still-invalid one stays" 5 "$(queue_depth "$DLQ")"
item=$(ddb_item FIX-00000007)
expect_eq "the corrected item has the fixed contact" "fixed@example.com" "$(jq -r '.["contact-info"].M.email.S' <<<"$item")"
expect_eq "the corrected item keeps its source" "s3://$BUCKET/orders.jsonl" "$(jq -r '._source.S' <<<"$item")"
expect_eq "the corrected item keeps its record index" 7 "$(jq -r '._record_index.N' <<<"$item")"
expect_eq "the corrected item keeps the source's ETag" "$(etag_of orders.jsonl)" "$(jq -r '._etag.S' <<<"$item")"
expect_match "the corrected item says when it was corrected" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(jq -r '._corrected_at.S' <<<"$item")"
expect_match "the corrected item keeps its ingestion time" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(jq -r '._ingested_at.S' <<<"$item")"
expect_eq "the repaired raw record is in the table" "b@example.com" \
  "$(ddb_item FIX-broken | jq -r '.["contact-info"].M.email.S')"
expect_eq "the offloaded record is in the table" 100000 "$(ddb_item FIX-big | jq -r '.["order-info"].M.notes.S | length')"
expect_eq "its offload object is deleted" 0 \
  "$(offload_count)"
expect_eq "the still-invalid record is not in the table" '{}' "$(ddb_item FIX-00000023)"

# ---- the same file again: nothing new written, nothing deleted twice
before=$(jq -r '._corrected_at.S' <<<"$item")
status=0
sf dlq replay --json "$WORK_DIR/fixes.jsonl" >"$WORK_DIR/again.json" 2>&1 || status=$?
expect_eq "replaying the same fixes again exits 0" 0 "$status"
expect_eq "all seven are already replayed" '{"already_replayed":7}' "$(jq -c .by_status "$WORK_DIR/again.json")"
expect_eq "nothing deleted the second time" 0 "$(jq .messages_deleted "$WORK_DIR/again.json")"
expect_eq "nothing written the second time" "$before" "$(ddb_item FIX-00000007 | jq -r '._corrected_at.S')"
expect_eq "the table is unchanged" 37 "$(table_count)"
expect_eq "the DLQ is unchanged" 5 "$(queue_depth "$DLQ")"

# ---- killed between the table write and the DLQ delete
jq -c 'select(.value["order-info"].OrderId == "FIX-00000027") | .value["contact-info"] = {"email": "k@example.com"}' \
  "$WORK_DIR/export.jsonl" >"$WORK_DIR/crash.jsonl"
fault=$(add_faults "{\"service\":\"sqs\",\"operation\":\"DeleteMessageBatch\",\"target\":\"$DLQ\",\"stall_ms\":30000,\"drop\":true,\"count\":1}")
"$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" dlq replay --visibility 5 "$WORK_DIR/crash.jsonl" >"$WORK_DIR/crash.out" 2>&1 &
pid=$!
_started_pids+=("$pid")
stalled() { test "$(fault_fired "$fault")" -ge 1; }
wait_for "the stalled DLQ delete" 30 stalled
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
remove_fault "$fault"
expect_eq "killed after the write: the item is in the table" "k@example.com" \
  "$(ddb_item FIX-00000027 | jq -r '.["contact-info"].M.email.S')"
expect_eq "killed before the delete: the message is still in the DLQ" 5 "$(queue_depth "$DLQ")"
sleep 6  # the killed replay's visibility timeout
status=0
sf dlq replay --json "$WORK_DIR/crash.jsonl" >"$WORK_DIR/settle.json" 2>&1 || status=$?
expect_eq "the next replay exits 0" 0 "$status"
expect_eq "the next replay settles it" '{"replayed":1}' "$(jq -c .by_status "$WORK_DIR/settle.json")"
expect_eq "one item for it, not two" 38 "$(table_count)"
expect_eq "its message is gone" 4 "$(queue_depth "$DLQ")"

# ---- a table write that fails keeps the message; a delete that fails says so
jq -c 'select(.value["order-info"].OrderId == "FIX-00000031") | .value["contact-info"] = {"email": "w@example.com"}' \
  "$WORK_DIR/export.jsonl" >"$WORK_DIR/fail.jsonl"
fault=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"BatchWriteItem\",\"target\":\"$TABLE\",\"error\":\"http500\"}")
status=0
sf dlq replay --visibility 5 "$WORK_DIR/fail.jsonl" >"$WORK_DIR/write-fail.out" 2>&1 || status=$?
remove_fault "$fault"
expect_eq "a failed table write exits 2" 2 "$status"
expect_match "and says so" "write_failed: .*InternalServerError" "$(cat "$WORK_DIR/write-fail.out")"
expect_eq "the record is not in the table" '{}' "$(ddb_item FIX-00000031)"
expect_eq "its message stays" 4 "$(queue_depth "$DLQ")"
fault=$(add_faults "{\"service\":\"sqs\",\"operation\":\"DeleteMessageBatch\",\"target\":\"$DLQ\",\"error\":\"http500\"}")
status=0
sf dlq replay --visibility 5 "$WORK_DIR/fail.jsonl" >"$WORK_DIR/fail.out" 2>&1 || status=$?
remove_fault "$fault"
expect_eq "a failed DLQ delete exits 2" 2 "$status"
expect_match "and says the record is written and to replay again" "delete_failed: written to the table.*replay again" \
  "$(cat "$WORK_DIR/fail.out")"
expect_eq "the message is still there" 4 "$(queue_depth "$DLQ")"
sleep 1
status=0
sf dlq replay "$WORK_DIR/fail.jsonl" >"$WORK_DIR/fail2.out" 2>&1 || status=$?
expect_eq "replaying again settles it" 0 "$status"
expect_eq "its message is gone" 3 "$(queue_depth "$DLQ")"
expect_eq "still one item per record" 39 "$(table_count)"

# ---- bad replay files change nothing
printf '%s\n' '{"id":"abc","value":{}}' 'not json' >"$WORK_DIR/bad.jsonl"
status=0
sf dlq replay "$WORK_DIR/bad.jsonl" >"$WORK_DIR/bad.out" 2>&1 || status=$?
expect_eq "a line that is not JSON is a usage error" 2 "$status"
expect_match "it names the line" "bad.jsonl: line 2: not a JSON object" "$(cat "$WORK_DIR/bad.out")"
head -1 "$WORK_DIR/still-invalid.jsonl" >"$WORK_DIR/twice.jsonl"
head -1 "$WORK_DIR/still-invalid.jsonl" >>"$WORK_DIR/twice.jsonl"
status=0
sf dlq replay "$WORK_DIR/twice.jsonl" >"$WORK_DIR/twice.out" 2>&1 || status=$?
expect_eq "an id corrected twice is a usage error" 2 "$status"
expect_match "it names both lines" "line 2: id [0-9a-f]{32} is already corrected on line 1" "$(cat "$WORK_DIR/twice.out")"
status=0
sf dlq replay "$WORK_DIR/no-such-file.jsonl" >"$WORK_DIR/nofile.out" 2>&1 || status=$?
expect_eq "a missing file is a usage error" 2 "$status"
expect_eq "nothing changed" "39 3" "$(table_count) $(queue_depth "$DLQ")"

# ---- discard: audited first, then deleted
invalid_id=$(jq -r .id "$WORK_DIR/still-invalid.jsonl")
status=0
sf dlq discard "$invalid_id" --audit /nonexistent-dir/audit.jsonl >"$WORK_DIR/noaudit.out" 2>&1 || status=$?
expect_eq "an audit file that cannot be written is a usage error" 2 "$status"
expect_eq "and nothing is discarded" 3 "$(queue_depth "$DLQ")"
status=0
sf dlq discard "$invalid_id" 0123456789abcdef0123456789abcdef --audit "$WORK_DIR/audit.jsonl" \
  --reason "customer withdrew the order" >"$WORK_DIR/discard.out" 2>&1 || status=$?
expect_eq "discard with an unknown id exits 1" 1 "$status"
expect_match "it names the unknown id" "0123456789abcdef0123456789abcdef  not_found" "$(cat "$WORK_DIR/discard.out")"
expect_eq "the audit file holds the discarded envelope" "$invalid_id" "$(jq -r .envelope.id "$WORK_DIR/audit.jsonl")"
expect_eq "with the reason" "customer withdrew the order" "$(jq -r .reason "$WORK_DIR/audit.jsonl")"
expect_eq "and the raw record" "FIX-00000023" "$(jq -r '.envelope.raw | fromjson | .["order-info"].OrderId' "$WORK_DIR/audit.jsonl")"
expect_eq "its message is gone" 2 "$(queue_depth "$DLQ")"

# ---- every record exactly once: table + DLQ + audit = the input
drain_queue "$DLQ" "$WORK_DIR/dlq-final.jsonl" 50
ddb scan --table-name "$TABLE" --output json | jq -r '.Items[]._record_index.N' >"$WORK_DIR/indices"
jq -r '.Body | fromjson | .record.index' "$WORK_DIR/dlq-final.jsonl" >>"$WORK_DIR/indices"
jq -r '.envelope.record.index' "$WORK_DIR/audit.jsonl" >>"$WORK_DIR/indices"
expect_eq "each of the 42 records is in exactly one place" "$(seq 0 41)" "$(sort -n "$WORK_DIR/indices")"
