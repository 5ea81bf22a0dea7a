#!/usr/bin/env bash
# `salesflow init` makes S3 send an s3:TestEvent to the new notification
# queue; the worker deletes it (no object, nothing written) and the queue ends
# empty, the poison queue too.
source "$(dirname "$0")/lib/common.sh"

sf_init
url=$(queue_url "$NQUEUE")
wait_for "the test event in the queue" 20 test "$(queue_depth "$NQUEUE")" -eq 1
answer=$(sqs ReceiveMessage "{\"QueueUrl\":\"$url\",\"MaxNumberOfMessages\":10,\"VisibilityTimeout\":0,\"WaitTimeSeconds\":1}")
expect_eq "the queue holds one s3:TestEvent" '["s3:TestEvent"]' \
  "$(jq -c '[.Messages[].Body | fromjson | .Event]' <<<"$answer")"
id=$(jq -r '.Messages[0].MessageId' <<<"$answer")

start_worker worker --exit-when-idle 3
wait_exit "$WORKER_PID" 40 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "the log says it deleted the test event" 1 \
  "$(grep -a '^{' "$WORK_DIR/worker.log" | jq -r 'select(.msg == "deleting s3:TestEvent '"$id"'") | .msg' | grep -c .)"
expect_eq "no object processed" 0 "$(log_objects "$WORK_DIR/worker.log" | grep -c . || true)"
expect_eq "no error or warning logged" 0 \
  "$(grep -a '^{' "$WORK_DIR/worker.log" | jq -r 'select(.level == "error" or .level == "warn") | .msg' | grep -c . || true)"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
expect_eq "poison queue empty" 0 "$(queue_depth "$PQUEUE")"
expect_eq "records DLQ empty" 0 "$(queue_depth "$DLQ")"
expect_eq "table empty" 0 "$(ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count)"
