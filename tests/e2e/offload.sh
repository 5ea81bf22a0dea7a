#!/usr/bin/env bash
# Oversize rejects go to S3 once and never come back as input. With
# --dlq-max-message-bytes 65536, one incomplete record of ~100 KB is offloaded:
# exactly one offload object (one slash after the prefix), one DLQ message
# pointing at it, nothing else — also when the offload location is in the
# input bucket under a notification that covers every key (the worker
# recognises its own output by location), and when an offload object is
# copied elsewhere in the input bucket (recognised by its first bytes).
source "$(dirname "$0")/lib/common.sh"

sf_init
wait_for "the test event in the queue" 20 test "$(queue_depth "$NQUEUE")" -ge 1

# init refuses an offload location its own notification would announce.
if sf init --offload-bucket "$BUCKET" >"$WORK_DIR/init-same.out" 2>&1; then
  fail "init accepted an offload location inside the notified bucket"
fi
expect_match "init names the conflict" "would cover the DLQ offload location" \
  "$(cat "$WORK_DIR/init-same.out")"

big_reject() { # FILE ORDER-ID: one valid record, one ~100 KB incomplete one, one small incomplete one
  python3 - "$1" "$2" <<'PY'
import json, sys
out, oid = sys.argv[1], sys.argv[2]
rows = [
    {"order-info": {"OrderId": oid + "-ok"}, "contact-info": {"email": "a@example.com"}},
    {"order-info": {"OrderId": oid + "-big", "notes": "n" * 100_000}},
    {"order-info": {"OrderId": oid + "-small"}},
]
open(out, "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
}
dlq_messages() { drain_queue "$DLQ" "$1" 50; }

# 1. The default: a bucket of its own for offloads.
big_reject "$WORK_DIR/one.jsonl" ONE
upload "$WORK_DIR/one.jsonl" "in/one.jsonl"
start_worker worker1 --dlq-max-message-bytes 65536 --exit-when-idle 4
wait_exit "$WORKER_PID" 90 "the first worker"
expect_eq "first worker exit status" 0 "$EXIT_STATUS"
offloads=$(s3 s3api list-objects-v2 --bucket "$OFFLOAD_BUCKET" --output json | jq -c '[.Contents[]?.Key]')
expect_eq "one offload object" 1 "$(jq length <<<"$offloads")"
key=$(jq -r '.[0]' <<<"$offloads")
expect_match "one slash after the prefix" '^salesflow-dlq-offload/[0-9a-f]{32}\.json$' "$key"
dlq_messages "$WORK_DIR/dlq1.jsonl"
expect_eq "two DLQ messages" 2 "$(grep -c . "$WORK_DIR/dlq1.jsonl")"
expect_eq "one of them points at the offload object" "$OFFLOAD_BUCKET/$key" \
  "$(jq -r '.Body | fromjson | select(.raw_s3) | .raw_s3.bucket + "/" + .raw_s3.key' "$WORK_DIR/dlq1.jsonl")"
s3 s3 cp --only-show-errors "s3://$OFFLOAD_BUCKET/$key" "$WORK_DIR/offloaded.json"
expect_eq "the offload object holds the whole record" "ONE-big" \
  "$(jq -r '.raw | fromjson | ."order-info".OrderId' "$WORK_DIR/offloaded.json")"
expect_eq "the input bucket holds only the upload" '["in/one.jsonl"]' \
  "$(s3 s3api list-objects-v2 --bucket "$BUCKET" --output json | jq -c '[.Contents[]?.Key]')"
expect_eq "one item" 1 "$(ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count)"

# 2. Offloads into the input bucket, whose notification covers every key: the
# offload object is announced, and the worker settles it without reading it.
big_reject "$WORK_DIR/two.jsonl" TWO
upload "$WORK_DIR/two.jsonl" "in/two.jsonl"
start_worker worker2 --offload-bucket "$BUCKET" --offload-prefix "salesflow-dlq-offload/" \
  --dlq-max-message-bytes 65536 --exit-when-idle 5
wait_exit "$WORKER_PID" 90 "the second worker"
expect_eq "second worker exit status" 0 "$EXIT_STATUS"
own=$(s3 s3api list-objects-v2 --bucket "$BUCKET" --prefix salesflow-dlq-offload --output json |
  jq -r '[.Contents[]?.Key] | join(" ")')
expect_match "one offload object in the input bucket, one slash" '^salesflow-dlq-offload/[0-9a-f]{32}\.json$' "$own"
expect_eq "the worker skipped it as its own output" "own" \
  "$(log_objects "$WORK_DIR/worker2.log" "object skipped" | jq -r --arg k "$own" \
    'select(.key == $k and (.reason | test("offload location"))) | "own"')"
expect_eq "it was never read as a file" 0 \
  "$(log_objects "$WORK_DIR/worker2.log" | jq -r --arg k "$own" 'select(.key == $k)' | grep -c . || true)"

# 3. A copy of an offload object under another key: recognised by its content.
s3 s3 cp --only-show-errors "s3://$BUCKET/$own" "s3://$BUCKET/in/copied-envelope.json"
start_worker worker3 --dlq-max-message-bytes 65536 --exit-when-idle 4
wait_exit "$WORKER_PID" 90 "the third worker"
expect_eq "third worker exit status" 0 "$EXIT_STATUS"
expect_eq "the copy was skipped as a salesflow envelope" "own" \
  "$(log_objects "$WORK_DIR/worker3.log" "object skipped" | jq -r \
    'select(.key == "in/copied-envelope.json" and (.reason | test("DLQ envelope"))) | "own"')"

dlq_messages "$WORK_DIR/dlq2.jsonl"
expect_eq "two more DLQ messages, nothing else" 2 "$(grep -c . "$WORK_DIR/dlq2.jsonl")"
expect_eq "two items in all" 2 "$(ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count)"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
expect_eq "poison queue empty" 0 "$(queue_depth "$PQUEUE")"
