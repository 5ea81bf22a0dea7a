#!/usr/bin/env bash
# `salesflow lambda` at its deadline with a dependency that does not answer,
# and killed mid-file; both times the object resumes from a checkpoint and the
# table and the DLQ end exactly right.
#
# 1. A DynamoDB write stalls past the whole function timeout. The deadline
#    stop cannot drain it, but no AWS call of the function runs past the
#    deadline (less a reserve for the answer): the write fails with
#    CutoffReached, the invocation answers before its timeout, and what was
#    unacknowledged is redone from the checkpoint.
# 2. The process is killed (SIGKILL, as Lambda kills a timed-out or crashed
#    environment) with the object's lease held and no answer given. The
#    notification comes back after its visibility timeout, waits out the dead
#    invocation's lease, and a later invocation resumes the object from its
#    last durable checkpoint (not from record 0).
source "$(dirname "$0")/lib/common.sh"
source "$E2E_LIB/lambda.sh"

# A FIFO DLQ drops the envelopes the resumed invocation sends again; the
# items it writes again are the same items (same source, etag, index).
DLQ="$DLQ.fifo"
SF_RESOURCES=(--bucket "$BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ")
# The visibility timeout just above the function's: a killed invocation's
# message comes back soon after the kill.
sf_init --max-receive-count 10 --fifo-dlq --visibility-timeout 10
SF_LAMBDA_ARGS=(--deadline-margin 2 --lease 10 --checkpoint-every 2000)

generate "$WORK_DIR/big.jsonl" "big.jsonl" 60000 --reject-every 9 --prefix KILL
start_lambda kill --timeout 8 --concurrency 1 --queue "$NQUEUE" --batch-size 1 \
  --report-batch-item-failures

# The highest record index a checkpoint made durable, read from the ledger.
checkpointed() {
  ddb scan --table-name "$LEDGER" --output json |
    jq '[.Items[] | (.next_index.N // "0") | tonumber] | max // 0'
}
has_checkpoint() { [ "$(checkpointed)" -gt 0 ]; }
big_lines() { cut -f4- "$WORK_DIR/kill.log" | grep -a '^{' | jq -c 'select(.msg == "object finished" and .key == "big.jsonl")'; }
upload "$WORK_DIR/big.jsonl" "big.jsonl"
wait_for "a durable checkpoint of the big file" 120 has_checkpoint

# ---- 1. a write stalled past the function timeout
lines_before=$(big_lines | grep -c . || true)
mapfile -t stall < <(add_faults "$(jq -cn --arg t "$TABLE" \
  '[{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 20000, count: 1}]')")
stalled() { [ "$(fault_fired "${stall[0]}")" -ge 1 ]; }
wait_for "the stalled write" 60 stalled
# The stalled invocation is in flight: it is counted once it ended.
invocations_at_stall=$(status_of kill | jq .invocations)
cutoff_line() { big_lines | tail -n "+$((lines_before + 1))" | jq -c 'select(tostring | contains("CutoffReached"))' | head -1; }
has_cutoff_line() { [ -n "$(cutoff_line)" ]; }
wait_for "an object line of the stalled invocation, ended at the cutoff" 30 has_cutoff_line
answered() { [ "$(status_of kill | jq .invocations)" -gt "$invocations_at_stall" ]; }
wait_for "the stalled invocation's end" 30 answered
stopped=$(cutoff_line)
echo "the stalled invocation's object: $(jq -c '{outcome, resumed_from, error_code, ledger_errors}' <<<"$stopped")"
expect_eq "the stalled invocation stopped its object" true \
  "$(jq '.outcome == "interrupted" or .outcome == "failed"' <<<"$stopped")"
expect_eq "no invocation timed out: the stop was bounded by the deadline" 0 "$(status_of kill | jq .timeouts)"

# ---- 2. killed with the object in work
# Every table write answers after 0.5 s until the kill, so that the file is
# still in work when a later invocation made a checkpoint of its own: killed then.
mapfile -t slow < <(add_faults "$(jq -cn --arg t "$TABLE" \
  '[{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 500, count: 1000000}]')")
has_progressed() { [ "$(checkpointed)" -gt "$before_kill" ]; }
before_kill=$(checkpointed)
wait_for "progress after the stalled invocation" 120 has_progressed
before_kill=$(checkpointed)
pkill -KILL -f "^$SALESFLOW_BINARY .*--table $TABLE .*lambda" || fail "no salesflow lambda process to kill"
remove_fault "${slow[0]}"
killed() { grep -aq 'REPORT RequestId: .*Status: error.*Error Type: Runtime.ExitError' "$WORK_DIR/kill.log"; }
wait_for "the local Lambda to see the kill" 30 killed
ok "the function was killed with the object in work (checkpoint at $before_kill)"
lines_at_kill=$(big_lines | grep -c . || true)

completed() { big_lines | jq -e 'select(.outcome == "completed")' >/dev/null; }
wait_for "the big file completed" 300 completed
kill_status=$(status_of kill)
echo "$(jq -r '"\(.invocations) invocations, \(.timeouts) timeouts, \(.errors) errors, \(.cold_starts) cold starts"' <<<"$kill_status")"
expect_eq "the killed environment was replaced by a cold start" true \
  "$(jq '.cold_starts >= 2' <<<"$kill_status")"
expect_eq "no invocation timed out" 0 "$(jq .timeouts <<<"$kill_status")"
# The first object line after the kill: the object resumed where a checkpoint
# left it, at least as far as the one seen before the kill.
resumed=$(big_lines | sed -n "$((lines_at_kill + 1))p")
[ -n "$resumed" ] || fail "no object line after the kill"
expect_eq "after the kill the object resumed from a checkpoint, not from record 0" true \
  "$(jq --argjson c "$before_kill" '.resumed_from >= $c and .resumed_from > 0' <<<"$resumed")"
expect_eq "nothing in the poison queue" 0 "$(queue_depth "$PQUEUE")"
stop_lambda kill

cut -f4- "$WORK_DIR/kill.log" >"$WORK_DIR/function-lines.log"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/function-lines.log"
