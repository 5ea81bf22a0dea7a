#!/usr/bin/env bash
# kill -9 of a worker in the middle of a large file: after the dead worker's
# lease and the notification's visibility expire, a new worker resumes from
# the last checkpoint. Nothing missing, nothing extra in the table; every
# rejected record in the DLQ at least once (a crash may repeat a few
# envelopes, with the same id, never lose one).
source "$(dirname "$0")/lib/common.sh"

sf_init --visibility-timeout 10
generate "$WORK_DIR/big.jsonl" "big.jsonl" 100000 --reject-every 40 --prefix K
upload "$WORK_DIR/big.jsonl" "big.jsonl"
etag=$(etag_of big.jsonl)

# Every BatchWriteItem to the table waits 200 ms: with at most 32 requests in
# flight the file's ~3900 batches take at least 24 s on any machine, far more
# than noticing the first checkpoint takes, so the kill lands mid-file.
stall=$(add_faults "$(jq -cn --arg t "$TABLE" \
  '{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 200}')")
start_worker first --checkpoint-every 2000 --lease 10 --visibility-timeout 10 --requests 32
first=$WORKER_PID
progress() { local next; next=$(ledger_attribute big.jsonl "$etag" next_index); [ "${next:-0}" -gt 0 ]; }
wait_for "the ledger to show progress" 60 progress
kill -9 "$first"
wait_exit "$first" 10 "the killed worker"
expect_eq "the worker died of the kill" 137 "$EXIT_STATUS"
remove_fault "$stall"
# Nobody works on the object now: the ledger shows it as the kill left it.
next=$(ledger_attribute big.jsonl "$etag" next_index)
state=$(ledger_attribute big.jsonl "$etag" state)
echo "killed at checkpoint next_index=$next, state=$state"
expect_eq "the object was mid-file when killed" running "$state"
[ "$next" -gt 0 ] && [ "$next" -lt 100000 ] || fail "checkpoint $next not inside the file"
ok "checkpoint inside the file ($next)"
expect_eq "the killed worker never finished the object" "" \
  "$(log_objects "$WORK_DIR/first.log" | jq -r 'select(.key == "big.jsonl") | .status')"

start_worker second --checkpoint-every 2000 --lease 10 --visibility-timeout 10 --exit-when-idle 15
wait_exit "$WORKER_PID" 150 "the second worker"
expect_eq "second worker exit status" 0 "$EXIT_STATUS"
expect_eq "second worker completed the object from the kill's checkpoint" "completed $next" \
  "$(log_objects "$WORK_DIR/second.log" | jq -r 'select(.key == "big.jsonl") | "\(.status) \(.resumed_from)"')"
expect_eq "ledger state" done "$(ledger_attribute big.jsonl "$etag" state)"
expect_eq "ledger attempts (two claims)" 2 "$(ledger_attribute big.jsonl "$etag" attempts)"

check_accounting "$WORK_DIR/expected.json" --allow-repeated-envelopes --log "$WORK_DIR/second.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
