#!/usr/bin/env bash
# Two workers on one queue with several files: each file is processed by one
# of them, both of them work; the counts are exact and nothing is there twice.
source "$(dirname "$0")/lib/common.sh"

sf_init
mkdir -p "$WORK_DIR/up"
for i in 1 2 3 4 5 6; do
  generate "$WORK_DIR/up/part-$i.jsonl" "part-$i.jsonl" $((2000 + i * 500)) --reject-every $((i + 2)) --prefix "P$i"
done
generate "$WORK_DIR/up/part-7.json.gz" "part-7.json.gz" 3000 --reject-every 6 --prefix P7 --format array --gzip

# A worker receives only as many notifications as it has free object slots
# (--objects 1: none while it works on one), so a busy worker leaves the queue
# to the idle one. The first 32 BatchWriteItem calls to the table (part-1's
# first round: 67 batches, 32 in flight) wait 15 s: part-1's worker stays busy
# that long, so the other files, uploaded once part-1 is claimed, can only go
# to the other worker until then; afterwards to either, at full speed.
add_faults "$(jq -cn --arg t "$TABLE" \
  '{service: "dynamodb", operation: "BatchWriteItem", target: $t, stall_ms: 15000, count: 32}')" >/dev/null
start_worker one --exit-when-idle 20 --objects 1 --requests 32
one=$WORKER_PID
start_worker two --exit-when-idle 20 --objects 1 --requests 32
two=$WORKER_PID
claimed() { [ "$(ledger_attribute "$1" "$2" state)" = running ]; }
upload "$WORK_DIR/up/part-1.jsonl" part-1.jsonl
wait_for "a worker to claim part-1.jsonl" 60 claimed part-1.jsonl "$(etag_of part-1.jsonl)"
rm "$WORK_DIR/up/part-1.jsonl"
upload_tree "$WORK_DIR/up"
wait_exit "$one" 300 "worker one"
expect_eq "worker one exit status" 0 "$EXIT_STATUS"
wait_exit "$two" 300 "worker two"
expect_eq "worker two exit status" 0 "$EXIT_STATUS"

cat "$WORK_DIR/one.log" "$WORK_DIR/two.log" >"$WORK_DIR/both.log"
expect_eq "every file completed exactly once across both workers" \
  "$(jq -c 'keys' "$WORK_DIR/expected.json")" \
  "$(log_objects "$WORK_DIR/both.log" | jq -sc 'map(select(.status == "completed") | .key) | sort')"
completed_by() { log_objects "$WORK_DIR/$1.log" | jq -s 'map(select(.status == "completed")) | length'; }
done_one=$(completed_by one)
done_two=$(completed_by two)
echo "worker one completed $done_one objects, worker two $done_two"
[ "$done_one" -gt 0 ] && [ "$done_two" -gt 0 ] || fail "one worker did all the work (one: $done_one, two: $done_two)"
ok "both workers completed objects"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/both.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
