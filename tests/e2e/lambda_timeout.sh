#!/usr/bin/env bash
# `salesflow lambda` killed mid-file by the function timeout, and resumed. A
# DynamoDB write that stalls past the deadline (a slow dependency, the way a
# real function outlives its margin) keeps the invocation from draining in
# time: the local Lambda kills the environment's processes as Lambda does
# (SIGKILL, "Task timed out"), with the object's lease held and no answer
# given. The notification comes back after its visibility timeout, waits out
# the dead invocation's lease, and a later invocation resumes the object from
# its last durable checkpoint (not from record 0). The table and the DLQ end
# exactly right.
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

generate "$WORK_DIR/big.jsonl" "big.jsonl" 30000 --reject-every 9 --prefix KILL
start_lambda kill --timeout 8 --concurrency 1 --queue "$NQUEUE" --batch-size 1 \
  --report-batch-item-failures

# The highest record index a checkpoint made durable, read from the ledger.
checkpointed() {
  ddb scan --table-name "$LEDGER" --output json |
    jq '[.Items[] | (.next_index.N // "0") | tonumber] | max // 0'
}
has_checkpoint() { [ "$(checkpointed)" -gt 0 ]; }
upload "$WORK_DIR/big.jsonl" "big.jsonl"
wait_for "a durable checkpoint of the big file" 120 has_checkpoint
before_kill=$(checkpointed)
# The next batch write to the table answers after 20 s: longer than the whole
# function timeout, so the deadline's drain cannot finish.
mapfile -t stall < <(add_faults "$(jq -cn --arg t "$TABLE" \
  '[{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 20000, count: 1}]')")
stalled() { [ "$(fault_fired "${stall[0]}")" -ge 1 ]; }
wait_for "the stalled write" 60 stalled
wait_for "the function timed out" 30 bash -c "grep -aq 'Task timed out after' '$WORK_DIR/kill.log'"
ok "the function was killed by its timeout with the object in work"

wait_for "the big file completed" 300 bash -c "cut -f4- '$WORK_DIR/kill.log' | grep -a '^{' | jq -e 'select(.msg == \"object finished\" and .key == \"big.jsonl\" and .outcome == \"completed\")'"
kill_status=$(status_of kill)
echo "killed mid-file: $(jq -r '"\(.invocations) invocations, \(.timeouts) timeouts, \(.cold_starts) cold starts"' <<<"$kill_status")"
expect_eq "one invocation timed out" 1 "$(jq .timeouts <<<"$kill_status")"
expect_eq "the timed-out environment was replaced by a cold start" true \
  "$(jq '.cold_starts >= 2' <<<"$kill_status")"
# The first object line after the kill: the object resumed where a checkpoint
# left it, at least as far as the one seen before the stall.
resumed=$(awk -F'\t' '/Task timed out after/ { after = 1; next } after && $4 ~ /^\{/ { print $4 }' \
  "$WORK_DIR/kill.log" | jq -c 'select(.msg == "object finished" and .key == "big.jsonl")' | head -1)
[ -n "$resumed" ] || fail "no object line after the timeout"
expect_eq "after the kill the object resumed from a checkpoint, not from record 0" true \
  "$(jq --argjson c "$before_kill" '.resumed_from >= $c and .resumed_from > 0' <<<"$resumed")"
expect_eq "nothing in the poison queue" 0 "$(queue_depth "$PQUEUE")"
stop_lambda kill

cut -f4- "$WORK_DIR/kill.log" >"$WORK_DIR/function-lines.log"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/function-lines.log"
