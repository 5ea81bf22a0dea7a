#!/usr/bin/env bash
# `salesflow lambda` run by the local Lambda (tools/localaws/lambda) as AWS
# runs a custom runtime: direct S3 and EventBridge invocations through
# /usr/bin/aws; an SQS event source mapping batch in which one object cannot be
# read (only its message comes back, and ends in the poison queue); a file so
# big for the function's timeout that it needs more invocations than the
# queue's maxReceiveCount, and still ends with exactly the right table and DLQ;
# an init error for a bad rules file.
source "$(dirname "$0")/lib/common.sh"
source "$E2E_LIB/lambda.sh"

# max-receive-count 3: the big file below needs more invocations than that.
# A FIFO DLQ: the envelopes a resumed invocation sends again are dropped by
# SQS, so even across 10+ interruptions every envelope is there exactly once.
DLQ="$DLQ.fifo"
SF_RESOURCES=(--bucket "$BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ")
sf_init --max-receive-count 3 --fifo-dlq
SF_LAMBDA_ARGS=(--deadline-margin 2 --lease 10)

# ---- direct invocations: an S3 event and an EventBridge event
mkdir -p "$WORK_DIR/up"
generate "$WORK_DIR/up/direct-s3.jsonl" "direct-s3.jsonl" 400 --reject-every 7 --prefix DS
# Big enough to outlast a lease renewal (every --lease/3 = 3 s), and announced
# without an eTag: the lease is renewed under the version the job claimed.
generate "$WORK_DIR/up/direct-eb.json" "direct-eb.json" 60000 --reject-every 5 --prefix DE --format array
upload "$WORK_DIR/up/direct-s3.jsonl" "direct-s3.jsonl"
upload "$WORK_DIR/up/direct-eb.json" "direct-eb.json"
# The notifications S3 sent: the S3 event invokes the function directly.
drain_queue "$NQUEUE" "$WORK_DIR/notifications.jsonl"
jq -c 'select(.Body | fromjson | .Records[0].s3.object.key == "direct-s3.jsonl") | .Body | fromjson' \
  "$WORK_DIR/notifications.jsonl" >"$WORK_DIR/s3-event.json"
expect_eq "S3 sent the S3 event" 1 "$(grep -c . "$WORK_DIR/s3-event.json")"
# Read, not deleted: gone now, so the mapping below never sees them.
sqs PurgeQueue "{\"QueueUrl\":\"$(queue_url "$NQUEUE")\"}" >/dev/null
jq -n --arg b "$BUCKET" --argjson size "$(stat -c %s "$WORK_DIR/up/direct-eb.json")" \
  '{version: "0", id: "e-1", "detail-type": "Object Created",
  source: "aws.s3", account: "000000000000", time: "2026-12-01T00:00:00Z", region: "us-east-1",
  resources: ["arn:aws:s3:::\($b)"], detail: {version: "0", bucket: {name: $b},
  object: {key: "direct-eb.json", size: $size}, reason: "PutObject"}}' >"$WORK_DIR/eb-event.json"

# A timeout far above the few seconds this takes: a loaded machine must not
# turn it into a deadline stop.
start_lambda direct --timeout 120 --concurrency 1
expect_eq "S3 event: no function error" "" "$(invoke direct "$WORK_DIR/s3-event.json" "$WORK_DIR/s3-answer.json")"
expect_eq "S3 event: the object settled" '{"objects":1,"settled":1}' "$(jq -c . "$WORK_DIR/s3-answer.json")"
expect_eq "EventBridge event: no function error" "" "$(invoke direct "$WORK_DIR/eb-event.json" "$WORK_DIR/eb-answer.json")"
expect_eq "EventBridge event: the object settled" '{"objects":1,"settled":1}' "$(jq -c . "$WORK_DIR/eb-answer.json")"
echo '{"Records":[{"eventSource":"aws:s3"}]}' >"$WORK_DIR/bad-event.json"
expect_eq "an unusable event is a function error" "Unhandled" "$(invoke direct "$WORK_DIR/bad-event.json" "$WORK_DIR/bad-answer.json")"
expect_eq "its error type" "Salesflow.InvalidEvent" "$(jq -r .errorType "$WORK_DIR/bad-answer.json")"
expect_eq "one warm environment served all three" 1 "$(status_of direct | jq .cold_starts)"
objects=$(function_lines direct | jq -c 'select(.msg == "object finished")')
expect_eq "object lines on stdout with the request id" 2 "$(jq -s 'map(select(.request_id | length > 0)) | length' <<<"$objects")"
expect_eq "EMF metrics in the object lines" "RecordsWritten RecordsRejected RecordsDuplicate Retries ObjectDuration" \
  "$(jq -rs '.[0]._aws.CloudWatchMetrics[0].Metrics | map(.Name) | join(" ")' <<<"$objects")"
expect_eq "EMF values beside them" "$(jq '."direct-s3.jsonl".valid' "$WORK_DIR/expected.json")" \
  "$(jq -s 'map(select(.key == "direct-s3.jsonl"))[0].RecordsWritten' <<<"$objects")"
expect_eq "no lease reported lost" 0 "$(function_lines direct | jq -s 'map(select(.msg | test("lease"))) | length')"
stop_lambda direct

# ---- init error: a rules file that does not parse
echo 'this is not toml [' >"$WORK_DIR/bad-rules.toml"
SF_LAMBDA_ARGS=(--rules "$WORK_DIR/bad-rules.toml")
start_lambda init --timeout 10 --concurrency 1
invoke init "$WORK_DIR/s3-event.json" "$WORK_DIR/init-answer.json" >"$WORK_DIR/init-error"
expect_eq "a bad rules file fails the invocation" "Unhandled" "$(cat "$WORK_DIR/init-error")"
expect_match "as an init error naming the rules" "Salesflow.InvalidRules" "$(cat "$WORK_DIR/init-answer.json")"
expect_eq "counted as an init error" 1 "$(status_of init | jq .init_errors)"
stop_lambda init
# ---- init error: a setting out of range, in the function's environment
SF_LAMBDA_ARGS=()
start_lambda usage --timeout 10 --concurrency 1 --env SALESFLOW_LEASE=6
invoke usage "$WORK_DIR/s3-event.json" "$WORK_DIR/usage-answer.json" >"$WORK_DIR/usage-error"
expect_eq "an unusable setting fails the invocation" "Unhandled" "$(cat "$WORK_DIR/usage-error")"
expect_eq "as an init error of the settings" "Salesflow.InvalidSettings" \
  "$(jq -r .errorType "$WORK_DIR/usage-answer.json")"
expect_match "naming the variable" "SALESFLOW_LEASE" "$(jq -r .errorMessage "$WORK_DIR/usage-answer.json")"
stop_lambda usage

# ---- an event source mapping batch with an object that cannot be read
SF_LAMBDA_ARGS=(--deadline-margin 2 --lease 10)
BROKEN_BUCKET="$BUCKET-broken"
s3 s3 mb "s3://$BROKEN_BUCKET" >/dev/null
on_exit "s3 s3 rb --force s3://$BROKEN_BUCKET"
printf '{"order-info":{"OrderId":"X"}}\n' >"$WORK_DIR/broken.jsonl"
s3 s3 cp --only-show-errors "$WORK_DIR/broken.jsonl" "s3://$BROKEN_BUCKET/broken.jsonl"
mapfile -t broken_faults < <(add_faults "$(jq -cn --arg b "$BROKEN_BUCKET" \
  '[{service: "s3", operation: "GetObject", target: $b, error: "http500"}]')")
mkdir -p "$WORK_DIR/batch"
for n in 1 2 3; do
  generate "$WORK_DIR/batch/batch-$n.jsonl" "batch-$n.jsonl" 300 --reject-every 6 --prefix "B$n"
done
start_lambda batch --timeout 40 --concurrency 2 --queue "$NQUEUE" --batch-size 10 \
  --batching-window 2 --report-batch-item-failures
broken_etag=$(s3 s3api head-object --bucket "$BROKEN_BUCKET" --key broken.jsonl --output json | jq -r '.ETag | gsub("\""; "")')
sqs SendMessage "$(jq -cn --arg q "$(queue_url "$NQUEUE")" --arg b "$BROKEN_BUCKET" --arg e "$broken_etag" '{QueueUrl: $q,
  MessageBody: ({Records: [{eventVersion: "2.1", eventSource: "aws:s3", eventName: "ObjectCreated:Put",
  s3: {bucket: {name: $b}, object: {key: "broken.jsonl", size: 30, eTag: $e}}}]} | tojson)}')" >/dev/null
upload_tree "$WORK_DIR/batch"
wait_for "the unreadable object's message in the poison queue" 150 \
  bash -c "[ \"\$(node '$LOCALAWS_DIR/sqs-json.js' --endpoint '$AWS_ENDPOINT_URL_SQS' GetQueueAttributes '{\"QueueUrl\":\"$(queue_url "$PQUEUE")\",\"AttributeNames\":[\"ApproximateNumberOfMessages\"]}' | jq -r .Attributes.ApproximateNumberOfMessages)\" = 1 ]"
notification_queue_empty() { [ "$(queue_depth "$NQUEUE")" = 0 ]; }
wait_for "the notification queue empty" 60 notification_queue_empty
batch_status=$(status_of batch)
expect_eq "batch item failures were reported" true "$(jq '.batch_item_failures >= 1' <<<"$batch_status")"
expect_eq "no function error or timeout" "0 0" "$(jq -r '"\(.errors) \(.timeouts)"' <<<"$batch_status")"
drain_queue "$PQUEUE" "$WORK_DIR/poison.jsonl"
expect_eq "only the unreadable object's message went to the poison queue" "broken.jsonl" \
  "$(jq -r '.Body | fromjson | .Records[0].s3.object.key' "$WORK_DIR/poison.jsonl")"
sqs PurgeQueue "{\"QueueUrl\":\"$(queue_url "$PQUEUE")\"}" >/dev/null
remove_fault "${broken_faults[0]}"
stop_lambda batch

# ---- a file that needs more invocations than maxReceiveCount
generate "$WORK_DIR/big.jsonl" "big.jsonl" 100000 --reject-every 50 --prefix BIG
# 3 s of work per invocation and a 4 s margin: the stop takes ~0.25 s in the
# normal build, but several times that in the ASan build on a loaded machine
# (a 2 s margin was once not enough there).
SF_LAMBDA_ARGS=(--deadline-margin 4 --lease 10)
start_lambda long --timeout 7 --concurrency 1 --queue "$NQUEUE" --batch-size 1 \
  --report-batch-item-failures
upload "$WORK_DIR/big.jsonl" "big.jsonl"
wait_for "the big file completed" 400 bash -c "cut -f4- '$WORK_DIR/long.log' | grep -a '^{' | jq -e 'select(.msg == \"object finished\" and .key == \"big.jsonl\" and .outcome == \"completed\")'"
long_status=$(status_of long)
invocations=$(jq .invocations <<<"$long_status")
# The longest invocation says how much of the margin the stop (in-flight
# writes, checkpoint, lease release, continuation) used.
longest=$(grep -ao 'REPORT RequestId: [^[:space:]]*[[:space:]]Duration: [0-9.]*' "$WORK_DIR/long.log" |
  awk '{print $NF}' | sort -n | tail -1)
echo "big file: $invocations invocations, $(jq .timeouts <<<"$long_status") timeouts, longest ${longest:-?} ms"
expect_eq "more invocations than the queue's maxReceiveCount (3)" true "$([ "$invocations" -gt 3 ] && echo true || echo false)"
expect_eq "continued, not timed out" 0 "$(jq .timeouts <<<"$long_status")"
expect_eq "nothing in the poison queue" 0 "$(queue_depth "$PQUEUE")"
stop_lambda long

# Every file of the test, exactly: the table and the DLQ.
jq 'del(."broken.jsonl")' "$WORK_DIR/expected.json" >"$WORK_DIR/expected-all.json"
cat "$WORK_DIR"/{direct,batch,long}.log | cut -f4- >"$WORK_DIR/all-functions.log"
check_accounting "$WORK_DIR/expected-all.json" --log "$WORK_DIR/all-functions.log"
