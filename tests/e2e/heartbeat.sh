#!/usr/bin/env bash
# A notification whose object takes longer than the visibility timeout (10 s)
# stays invisible while its worker works on it (the heartbeat extends it): a
# second worker running meanwhile never receives it.
source "$(dirname "$0")/lib/common.sh"

sf_init --visibility-timeout 10
generate "$WORK_DIR/slow.jsonl" "slow.jsonl" 5000 --reject-every 11 --prefix H
# The object's first GetObject answers only after 14 s.
stall=$(add_faults "$(jq -cn --arg b "$BUCKET" '{service: "s3", operation: "GetObject", target: $b, stall_ms: 14000, count: 1}')")
upload "$WORK_DIR/slow.jsonl" "slow.jsonl"
etag=$(etag_of slow.jsonl)

start_worker first --visibility-timeout 10 --lease 10 --exit-when-idle 5
first=$WORKER_PID
claimed() { [ "$(ledger_attribute slow.jsonl "$etag" state)" = running ]; }
wait_for "the first worker to claim the object" 30 claimed
claimed_at=$SECONDS
# Runs past the moment the notification would reappear without heartbeats.
start_worker second --visibility-timeout 10 --lease 10 --exit-when-idle 20
second=$WORKER_PID

wait_exit "$first" 90 "the first worker"
expect_eq "first worker exit status" 0 "$EXIT_STATUS"
wait_exit "$second" 90 "the second worker"
expect_eq "second worker exit status" 0 "$EXIT_STATUS"
echo "the object was claimed for $((SECONDS - claimed_at)) s or more before both workers were done"
expect_eq "the stall fired" 1 "$(fault_fired "$stall")"
duration=$(log_objects "$WORK_DIR/first.log" | jq -r 'select(.key == "slow.jsonl" and .status == "completed") | .duration_ms')
[ -n "$duration" ] && [ "$duration" -gt 10000 ] || fail "the object took [$duration] ms, not longer than the visibility timeout"
ok "the first worker completed the object in $duration ms (> 10 s visibility)"
expect_eq "the second worker never saw the object" 0 \
  "$(grep -a '^{' "$WORK_DIR/second.log" | jq -r 'select(.key == "slow.jsonl") | .msg' | grep -c . || true)"
expect_eq "the second worker received no notification" "0 notifications" \
  "$(grep -a '^{' "$WORK_DIR/second.log" | jq -r 'select(.msg | startswith("worker stopped")) | .msg' | grep -o '[0-9]* notifications')"
expect_eq "ledger attempts" 1 "$(ledger_attribute slow.jsonl "$etag" attempts)"
expect_eq "ledger state" done "$(ledger_attribute slow.jsonl "$etag" state)"

check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/first.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
