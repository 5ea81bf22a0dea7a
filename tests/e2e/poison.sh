#!/usr/bin/env bash
# A notification that is not an S3 event is never deleted by the worker: after
# --max-receive-count receives SQS moves it to the poison queue, body intact.
source "$(dirname "$0")/lib/common.sh"

sf_init --max-receive-count 2 --visibility-timeout 10
url=$(queue_url "$NQUEUE")
garbage='{"this is": "not an S3 event", "n": 1}'
sent=$(sqs SendMessage "$(jq -cn --arg u "$url" --arg b "$garbage" '{QueueUrl: $u, MessageBody: $b}')" |
  jq -r .MessageId) || fail "sending the garbage notification"

# Two receives, 10 s apart; the third receive finds it moved. The idle limit
# outlasts one visibility timeout so the worker sees the second receive.
start_worker worker --visibility-timeout 10 --max-receive-count 2 --exit-when-idle 14
wait_exit "$WORKER_PID" 60 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "receives logged as not an S3 event" "1 2" \
  "$(grep -a '^{' "$WORK_DIR/worker.log" | jq -r "select(.level == \"error\" and (.msg | startswith(\"notification $sent \"))) | .msg" |
    sed -n 's/.*(receive \([0-9]*\)).*/\1/p' | tr '\n' ' ' | sed 's/ $//')"

wait_for "the notification queue to be empty" 20 test "$(queue_depth "$NQUEUE")" -eq 0
drain_queue "$PQUEUE" "$WORK_DIR/poison.jsonl"
expect_eq "the poison queue holds the message, body intact" "$garbage" \
  "$(jq -r --arg id "$sent" 'select(.MessageId == $id) | .Body' "$WORK_DIR/poison.jsonl")"
expect_eq "nothing else in the poison queue" 1 "$(grep -c . "$WORK_DIR/poison.jsonl")"
expect_eq "records DLQ empty" 0 "$(queue_depth "$DLQ")"
