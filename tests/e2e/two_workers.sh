#!/usr/bin/env bash
# Two workers on one queue with several files: each file is processed by one
# of them; the counts are exact and nothing is there twice.
source "$(dirname "$0")/lib/common.sh"

sf_init
mkdir -p "$WORK_DIR/up"
for i in 1 2 3 4 5 6; do
  generate "$WORK_DIR/up/part-$i.jsonl" "part-$i.jsonl" $((2000 + i * 500)) --reject-every $((i + 2)) --prefix "P$i"
done
generate "$WORK_DIR/up/part-7.json.gz" "part-7.json.gz" 3000 --reject-every 6 --prefix P7 --format array --gzip

start_worker one --exit-when-idle 6 --objects 2
one=$WORKER_PID
start_worker two --exit-when-idle 6 --objects 2
two=$WORKER_PID
upload_tree "$WORK_DIR/up"
wait_exit "$one" 120 "worker one"
expect_eq "worker one exit status" 0 "$EXIT_STATUS"
wait_exit "$two" 120 "worker two"
expect_eq "worker two exit status" 0 "$EXIT_STATUS"

cat "$WORK_DIR/one.log" "$WORK_DIR/two.log" >"$WORK_DIR/both.log"
expect_eq "every file completed exactly once across both workers" \
  "$(jq -c 'keys' "$WORK_DIR/expected.json")" \
  "$(log_objects "$WORK_DIR/both.log" | jq -sc 'map(select(.status == "completed") | .key) | sort')"
echo "worker one completed $(log_objects "$WORK_DIR/one.log" | grep -c . || true), worker two $(log_objects "$WORK_DIR/two.log" | grep -c . || true)"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/both.log"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
