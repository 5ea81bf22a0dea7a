#!/usr/bin/env bash
# SIGTERM in the middle of a large file: the worker stops receiving,
# checkpoints what is durable, hands the notification back and exits 0 within
# its grace period; a new worker finishes the file from the checkpoint.
source "$(dirname "$0")/lib/common.sh"

sf_init --visibility-timeout 10
generate "$WORK_DIR/big.jsonl" "big.jsonl" 100000 --reject-every 40 --prefix T
upload "$WORK_DIR/big.jsonl" "big.jsonl"
etag=$(etag_of big.jsonl)

# Every BatchWriteItem to the table waits 200 ms: with at most 32 requests in
# flight the file's ~3900 batches take at least 24 s on any machine. Objects
# get half the grace period (2 s) to finish before they are interrupted, so
# the SIGTERM lands mid-file and the interruption path is what runs.
stall=$(add_faults "$(jq -cn --arg t "$TABLE" \
  '{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 200}')")
grace=4
start_worker first --checkpoint-every 2000 --visibility-timeout 10 --grace-period "$grace" --requests 32
first=$WORKER_PID
progress() { local next; next=$(ledger_attribute big.jsonl "$etag" next_index); [ "${next:-0}" -gt 0 ]; }
wait_for "the ledger to show progress" 60 progress
signalled=$SECONDS
kill -TERM "$first"
wait_exit "$first" $((grace + 5)) "the worker after SIGTERM"
expect_eq "exit status after SIGTERM" 0 "$EXIT_STATUS"
echo "exited $((SECONDS - signalled)) s after SIGTERM"
remove_fault "$stall"
expect_eq "the object was left unfinished" interrupted \
  "$(log_objects "$WORK_DIR/first.log" | jq -r 'select(.key == "big.jsonl") | .status')"
next=$(ledger_attribute big.jsonl "$etag" next_index)
[ "$next" -gt 0 ] && [ "$next" -lt 100000 ] || fail "checkpoint $next not inside the file"
ok "checkpoint saved inside the file ($next)"

# The lease was released and the notification handed back: a new worker
# starts at once, from the checkpoint.
start_worker second --checkpoint-every 2000 --visibility-timeout 10 --exit-when-idle 15
wait_exit "$WORKER_PID" 150 "the second worker"
expect_eq "second worker exit status" 0 "$EXIT_STATUS"
expect_eq "second worker completed the object from the checkpoint" "completed $next" \
  "$(log_objects "$WORK_DIR/second.log" | jq -r 'select(.key == "big.jsonl") | "\(.status) \(.resumed_from)"')"
expect_eq "ledger state" done "$(ledger_attribute big.jsonl "$etag" state)"

check_accounting "$WORK_DIR/expected.json" --allow-repeated-envelopes --log "$WORK_DIR/second.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
