#!/usr/bin/env bash
# `worker --exit-when-idle` counts idle time from the last moment it had work,
# not from its last receive: with one object slot, a notification waits in the
# queue while the first object (stalled for longer than the idle limit) is in
# work; the worker must take it after the first one and only then exit.
source "$(dirname "$0")/lib/common.sh"

sf_init
generate "$WORK_DIR/one.jsonl" one.jsonl 2000 --reject-every 7 --prefix A
generate "$WORK_DIR/two.jsonl" two.jsonl 2000 --reject-every 9 --prefix B
# Whichever object is read first answers only after 6 s (3x the idle limit).
stall=$(add_faults "$(jq -cn --arg b "$BUCKET" '{service: "s3", operation: "GetObject", target: $b, stall_ms: 6000, count: 1}')")
upload "$WORK_DIR/one.jsonl" one.jsonl
upload "$WORK_DIR/two.jsonl" two.jsonl
# Both notifications (and init's s3:TestEvent) are queued before the worker starts.
wait_for "both notifications in the queue" 20 test "$(queue_depth "$NQUEUE")" -ge 3

start_worker worker --objects 1 --exit-when-idle 2
wait_exit "$WORKER_PID" 90 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "the stall fired" 1 "$(fault_fired "$stall")"
expect_eq "objects completed before the idle exit" 2 \
  "$(log_objects "$WORK_DIR/worker.log" | jq -r 'select(.status == "completed") | .key' | sort -u | grep -c .)"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"
