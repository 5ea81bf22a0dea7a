#!/usr/bin/env bash
# Faults on this test's own table, DLQ and bucket: partial BatchWriteItem
# (UnprocessedItems), throttling and 500s of BatchWriteItem, partial failures
# of SendMessageBatch, and GetObject answers cut mid-body. Every fault must
# fire, and the counts stay exact: nothing lost, nothing twice.
source "$(dirname "$0")/lib/common.sh"

sf_init
mkdir -p "$WORK_DIR/up"
generate "$WORK_DIR/up/a.jsonl" "a.jsonl" 3000 --reject-every 5 --prefix A
generate "$WORK_DIR/up/b.json.gz" "b.json.gz" 2000 --reject-every 3 --prefix B --format array --gzip
generate "$WORK_DIR/up/c.json" "c.json" 1500 --reject-every 4 --prefix C --format wrapped

# Count rules fire on the first N calls they match, in list order, so each of
# them fires exactly N times while the files are processed.
rules=$(jq -cn --arg t "$TABLE" --arg q "$DLQ" --arg b "$BUCKET" '[
  {service: "dynamodb", operation: "BatchWriteItem", target: $t, unprocessed: 0.5, count: 6},
  {service: "dynamodb", operation: "BatchWriteItem", target: $t,
   error: "ProvisionedThroughputExceededException", count: 5},
  {service: "dynamodb", operation: "BatchWriteItem", target: $t, error: "http500", count: 4},
  {service: "sqs", operation: "SendMessageBatch", target: $q, failed_entries: 0.3, count: 5},
  {service: "sqs", operation: "SendMessageBatch", target: $q, error: "http500", count: 2},
  {service: "s3", operation: "GetObject", target: $b, cut_after_bytes: 40000, count: 2}]')
mapfile -t ids < <(add_faults "$rules")
expect_eq "fault rules added" 6 "${#ids[@]}"

upload_tree "$WORK_DIR/up"
start_worker worker --exit-when-idle 3
wait_exit "$WORKER_PID" 90 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"

expected_fired=(6 5 4 5 2 2)
names=("UnprocessedItems" "ProvisionedThroughputExceeded" "BatchWriteItem 500" \
  "SendMessageBatch partial failure" "SendMessageBatch 500" "GetObject cut")
for i in "${!ids[@]}"; do
  expect_eq "fault fired: ${names[i]}" "${expected_fired[i]}" "$(fault_fired "${ids[i]}")"
done
expect_eq "every object completed" '["a.jsonl","b.json.gz","c.json"]' \
  "$(log_objects "$WORK_DIR/worker.log" | jq -sc 'map(select(.status == "completed") | .key) | sort')"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
