#!/usr/bin/env bash
# `salesflow process` stopped by SIGTERM never reports success: when its
# objects cannot even be checkpointed within the grace period (here every
# BatchWriteItem stalls), the watchdog ends it, and with status 1, not 0 —
# a backfill script must learn that it has to run again. The rerun finishes
# the object exactly.
source "$(dirname "$0")/lib/common.sh"

sf_init
generate "$WORK_DIR/stuck.jsonl" "stuck.jsonl" 3000 --reject-every 9 --prefix P
upload "$WORK_DIR/stuck.jsonl" "stuck.jsonl"
stall=$(add_faults "$(jq -cn --arg t "$TABLE" '{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 30000}')")

"$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" process --grace-period 2 --lease 10 "s3://$BUCKET/stuck.jsonl" \
  >"$WORK_DIR/process.log" 2>&1 &
pid=$!
_started_pids+=("$pid")
stalled() { [ "$(fault_fired "$stall")" -ge 1 ]; }
wait_for "the first stalled write" 30 stalled
kill -TERM "$pid"
wait_exit "$pid" 15 "process after SIGTERM"
expect_eq "process stopped by the watchdog exits 1" 1 "$EXIT_STATUS"
remove_fault "$stall"

# The stopped process could not release its lease: a rerun finds the object
# held (exit 1) until the lease expires, then finishes it.
rerun() { "$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" process "s3://$BUCKET/stuck.jsonl" >"$WORK_DIR/rerun.log" 2>&1; }
wait_for "a rerun to finish the object once the lease expired" 60 rerun
ok "the rerun exits 0"
check_accounting "$WORK_DIR/expected.json" --allow-repeated-envelopes --log "$WORK_DIR/rerun.log"
