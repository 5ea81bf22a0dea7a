#!/usr/bin/env bash
# A worker stopped with SIGTERM at random moments under load, many times in a
# row: every stop exits 0 within the grace period, with no sanitizer report
# (this build may be the ASan or TSan one: an object that a thread still
# calls must never be destroyed before that thread is joined), and in the end
# every record is in the table or the DLQ. A one-in-N failure of a single
# stop becomes a near-certain failure here.
source "$(dirname "$0")/lib/common.sh"

ROUNDS=${STOP_UNDER_LOAD_ROUNDS:-6}
seed=${STOP_UNDER_LOAD_SEED:-$RANDOM}
echo "seed $seed (STOP_UNDER_LOAD_SEED=$seed repeats the stop moments)"
RANDOM=$seed

# Every stop hands its messages back, and each hand-back is one more receive:
# SQS would move a notification to the poison queue after maxReceiveCount
# receives, so the redrive must allow more receives than there are rounds
# (the final check below names it if one moved anyway).
sf_init --visibility-timeout 10 --max-receive-count $((ROUNDS * 3 + 5))
for f in 1 2 3; do
  generate "$WORK_DIR/load-$f.jsonl" "load-$f.jsonl" "${STOP_UNDER_LOAD_RECORDS:-20000}" --reject-every 25 --prefix "L$f"
  upload "$WORK_DIR/load-$f.jsonl" "load-$f.jsonl"
done

sanitizer_report() { grep -aE 'ERROR: AddressSanitizer|WARNING: ThreadSanitizer|runtime error:|LeakSanitizer' "$1"; }
for ((round = 1; round <= ROUNDS; round++)); do
  # Small checkpoints and several objects at once: many requests in flight,
  # heartbeats and long polls when the signal arrives.
  start_worker "round-$round" --objects 3 --checkpoint-every 500 --visibility-timeout 10 \
    --grace-period 3 --lease 10
  pid=$WORKER_PID
  delay_ms=$((200 + RANDOM % 2300))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -TERM "$pid" 2>/dev/null || true
  wait_exit "$pid" 20 "the worker of round $round after SIGTERM"
  if sanitizer_report "$WORK_DIR/round-$round.log" >/dev/null; then
    sanitizer_report "$WORK_DIR/round-$round.log" | head -5
    fail "round $round: a sanitizer report (log in $WORK_DIR/round-$round.log)"
  fi
  expect_eq "round $round (SIGTERM after ${delay_ms} ms): exit status" 0 "$EXIT_STATUS"
done

start_worker final --exit-when-idle 15 --visibility-timeout 10
wait_exit "$WORKER_PID" 300 "the final worker"
expect_eq "final worker exit status" 0 "$EXIT_STATUS"
if sanitizer_report "$WORK_DIR/final.log" >/dev/null; then fail "a sanitizer report in the final run"; fi
expect_eq "poison queue empty" 0 "$(queue_depth "$PQUEUE")"
check_accounting "$WORK_DIR/expected.json" --allow-repeated-envelopes
