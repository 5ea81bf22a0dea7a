#!/usr/bin/env bash
# Offloaded envelopes through the correction loop: `dlq export` inlines their
# S3 text, and says (exit 1) when that text is gone instead of dropping the
# envelope; `dlq discard` audits the whole envelope, raw text included, before
# it deletes the message and then its offload object, and refuses (exit 2,
# nothing deleted) to discard an envelope whose text it cannot audit.
# Read back with /usr/bin/aws and the SQS JSON protocol.
source "$(dirname "$0")/lib/common.sh"

sf_init
offload_keys() { s3 s3api list-objects-v2 --bucket "$OFFLOAD_BUCKET" --output json | jq -sr '.[].Contents[]?.Key'; }
python3 - "$WORK_DIR/orders.jsonl" <<'PY'
import json, sys
rows = [{"order-info": {"OrderId": "BIG-1", "notes": "a" * 100_000}},
        {"order-info": {"OrderId": "BIG-2", "notes": "b" * 100_000}},
        {"order-info": {"OrderId": "SMALL-1"}},
        {"order-info": {"OrderId": "SMALL-2"}},
        {"order-info": {"OrderId": "OK-1"}, "contact-info": {"email": "a@example.com"}}]
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
upload "$WORK_DIR/orders.jsonl" orders.jsonl
sf process --dlq-max-message-bytes 65536 "s3://$BUCKET/orders.jsonl" >"$WORK_DIR/process.log" 2>&1 ||
  fail "process: $(tail -3 "$WORK_DIR/process.log")"
expect_eq "four envelopes" 4 "$(queue_depth "$DLQ")"
expect_eq "two of them offloaded" 2 "$(offload_keys | grep -c .)"

sf dlq export -o "$WORK_DIR/all.jsonl" 2>/dev/null || fail "export"
big1=$(jq -r 'select(.value["order-info"].OrderId == "BIG-1") | .id' "$WORK_DIR/all.jsonl")
big2=$(jq -r 'select(.value["order-info"].OrderId == "BIG-2") | .id' "$WORK_DIR/all.jsonl")
expect_match "both big envelopes are exported whole" '^[0-9a-f]{32} [0-9a-f]{32}$' "$big1 $big2"

# Lose BIG-1's offloaded text behind salesflow's back.
s3 s3 rm --only-show-errors "s3://$OFFLOAD_BUCKET/salesflow-dlq-offload/$big1.json" || fail "removing the offload object"
status=0
sf dlq export -o "$WORK_DIR/lost.jsonl" 2>"$WORK_DIR/lost.err" || status=$?
expect_eq "an export with an unreadable offloaded text exits 1" 1 "$status"
expect_match "it names the envelope" "envelope $big1: its offloaded text cannot be read" "$(cat "$WORK_DIR/lost.err")"
expect_eq "the envelope is still exported" 4 "$(grep -c . "$WORK_DIR/lost.jsonl")"
expect_eq "as its reduced form, pointing at S3, without a value" "true false" \
  "$(jq -r --arg id "$big1" 'select(.id == $id) | "\(has("raw_s3")) \(has("value"))"' "$WORK_DIR/lost.jsonl")"

status=0
sf dlq discard "$big1" --audit "$WORK_DIR/audit.jsonl" --reason lost >"$WORK_DIR/d1.out" 2>&1 || status=$?
expect_eq "an envelope whose text cannot be audited is not discarded" 2 "$status"
expect_match "and says why" "$big1  audit_failed: its offloaded text cannot be read" "$(cat "$WORK_DIR/d1.out")"
expect_eq "its message stays" 4 "$(queue_depth "$DLQ")"
expect_eq "nothing was audited" 0 "$(cat "$WORK_DIR/audit.jsonl" 2>/dev/null | grep -c . || true)"

jq -c --arg id "$big2" 'select(.id == $id)' "$WORK_DIR/all.jsonl" >"$WORK_DIR/big2.jsonl"
sf dlq discard --from "$WORK_DIR/big2.jsonl" --audit "$WORK_DIR/audit.jsonl" --reason "test order" \
  >"$WORK_DIR/d2.out" 2>&1 || fail "discard --from: $(cat "$WORK_DIR/d2.out")"
expect_eq "the audit holds the whole envelope, raw text included" 100000 \
  "$(jq -r '.envelope.raw | fromjson | .["order-info"].notes | length' "$WORK_DIR/audit.jsonl")"
expect_eq "with the reason" "test order" "$(jq -r .reason "$WORK_DIR/audit.jsonl")"
expect_eq "its message is gone" 3 "$(queue_depth "$DLQ")"
expect_eq "and its offload object" "" "$(offload_keys | grep "$big2" || true)"

small=$(jq -r 'select(.value["order-info"].OrderId | startswith("SMALL")) | .id' "$WORK_DIR/all.jsonl" | tr '\n' ' ')
# shellcheck disable=SC2086 # two ids
sf dlq discard $small --audit "$WORK_DIR/audit.jsonl" --reason "duplicates of other orders" \
  >"$WORK_DIR/d3.out" 2>&1 || fail "discard of two ids: $(cat "$WORK_DIR/d3.out")"
expect_match "discard says what it did" "discarded 2 of 2 envelopes" "$(cat "$WORK_DIR/d3.out")"
expect_eq "three envelopes audited" 3 "$(grep -c . "$WORK_DIR/audit.jsonl")"
drain_queue "$DLQ" "$WORK_DIR/left.jsonl" 30
expect_eq "only the envelope that could not be audited is left" "$big1" "$(jq -r '.Body | fromjson | .id' "$WORK_DIR/left.jsonl")"
status=0
sf dlq discard --audit "$WORK_DIR/audit.jsonl" >"$WORK_DIR/d4.out" 2>&1 || status=$?
expect_eq "discard without ids is a usage error" 2 "$status"
