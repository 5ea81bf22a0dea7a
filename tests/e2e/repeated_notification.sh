#!/usr/bin/env bash
# One object announced three times: its own notification, the same bytes
# uploaded again (same eTag, so the same ledger entry), and a copy of the
# first notification's body sent again. The records land once; the ledger
# says done after one attempt; the later runs log the object as skipped.
source "$(dirname "$0")/lib/common.sh"

sf_init
generate "$WORK_DIR/orders.jsonl" "orders.jsonl" 500 --reject-every 7
upload "$WORK_DIR/orders.jsonl" "orders.jsonl"

# Look at the notification without consuming it (visible again at once).
url=$(queue_url "$NQUEUE")
body=""
for _ in $(seq 1 10); do
  body=$(sqs ReceiveMessage "{\"QueueUrl\":\"$url\",\"MaxNumberOfMessages\":10,\"VisibilityTimeout\":0,\"WaitTimeSeconds\":1}" |
    jq -r '.Messages // [] | map(.Body | select(contains("ObjectCreated"))) | .[0] // empty')
  [ -n "$body" ] && break
done
[ -n "$body" ] || fail "no ObjectCreated notification for orders.jsonl"
ok "captured the notification"

# In reject mode (conditional PutItem per record): no record of a single
# delivery conflicts, and the suite's calls cover the mode's IAM action
# (deploy.least_privilege).
start_worker first --exit-when-idle 3 --on-conflict reject
wait_exit "$WORKER_PID" 50 "the first worker"
expect_eq "first worker exit status" 0 "$EXIT_STATUS"
expect_eq "first run processed the object" "completed 500" \
  "$(log_objects "$WORK_DIR/first.log" | jq -r 'select(.key == "orders.jsonl") | "\(.status) \(.records)"')"

etag=$(etag_of orders.jsonl)
expect_eq "ledger state after the first run" done "$(ledger_attribute orders.jsonl "$etag" state)"

# Two more deliveries of the same object version.
upload "$WORK_DIR/orders.jsonl" "orders.jsonl"
sqs SendMessage "$(jq -cn --arg u "$url" --arg b "$body" '{QueueUrl: $u, MessageBody: $b}')" >/dev/null ||
  fail "re-sending the notification"
expect_eq "same bytes, same eTag" "$etag" "$(etag_of orders.jsonl)"

start_worker second --exit-when-idle 3
wait_exit "$WORKER_PID" 50 "the second worker"
expect_eq "second worker exit status" 0 "$EXIT_STATUS"
expect_eq "second run processed nothing" 0 "$(log_objects "$WORK_DIR/second.log" | grep -c . || true)"
expect_eq "second run skipped both deliveries as done" '["already done","already done"]' \
  "$(log_objects "$WORK_DIR/second.log" "object skipped" | jq -sc 'map(select(.key == "orders.jsonl") | .reason)')"
expect_eq "ledger state" done "$(ledger_attribute orders.jsonl "$etag" state)"
expect_eq "ledger attempts" 1 "$(ledger_attribute orders.jsonl "$etag" attempts)"
expect_eq "ledger records" 500 "$(ledger_attribute orders.jsonl "$etag" records)"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
expect_eq "poison queue empty" 0 "$(queue_depth "$PQUEUE")"

check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/first.log"
