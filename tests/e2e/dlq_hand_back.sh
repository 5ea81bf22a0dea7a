#!/usr/bin/env bash
# `dlq peek`/`stats` hand every message they received back, also when a later
# receive fails, and say when SQS refused to take some back (a partial batch
# failure), instead of leaving them invisible without a word. Against a
# scripted SQS (lib/fake_sqs.py): the local stack cannot fail these calls.
source "$(dirname "$0")/lib/common.sh"

fake() { # NAME ARGS...: starts a scripted SQS, sets FAKE_URL
  local name=$1
  shift
  python3 "$E2E_LIB/fake_sqs.py" --log "$WORK_DIR/$name.calls" "$@" >"$WORK_DIR/$name.port" &
  _started_pids+=("$!")
  wait_for "the scripted SQS $name" 10 test -s "$WORK_DIR/$name.port"
  FAKE_URL="http://127.0.0.1:$(cat "$WORK_DIR/$name.port")"
}
handed_back() { # CALLS: receipt handles sent back with visibility 0
  jq -r 'select(.action == "ChangeMessageVisibilityBatch") | .request.Entries[] |
    select(.VisibilityTimeout == 0) | .ReceiptHandle' "$1" | sort | tr '\n' ' '
}

# A partial failure of the hand-back is reported, with the count.
fake partial --fail-handback 2
status=0
AWS_ENDPOINT_URL_SQS=$FAKE_URL "$SALESFLOW_BINARY" --dlq q dlq peek 5 \
  >"$WORK_DIR/peek.out" 2>"$WORK_DIR/peek.err" || status=$?
expect_eq "peek exit status" 0 "$status"
expect_eq "peek shows the three envelopes" 3 "$(grep -c 'k.jsonl' "$WORK_DIR/peek.out")"
expect_eq "every received message was handed back" "h-0 h-1 h-2 " "$(handed_back "$WORK_DIR/partial.calls")"
expect_match "the refused hand-backs are reported" "2 of 3 messages could not be handed back.*ReceiptHandleIsInvalid" \
  "$(cat "$WORK_DIR/peek.err")"

# A receive that fails after some messages arrived: those are handed back
# before the command reports the error.
fake failing --receive-error-after 1
status=0
AWS_ENDPOINT_URL_SQS=$FAKE_URL "$SALESFLOW_BINARY" --dlq q dlq stats \
  >"$WORK_DIR/stats.out" 2>"$WORK_DIR/stats.err" || status=$?
expect_eq "stats exit status after a failed receive" 1 "$status"
expect_match "the error is named" "AccessDenied" "$(cat "$WORK_DIR/stats.err")"
expect_eq "the messages received before the failure were handed back" "h-0 h-1 h-2 " \
  "$(handed_back "$WORK_DIR/failing.calls")"
