#!/usr/bin/env bash
# A bucket salesflow does not own (deploy/salesflow.yaml's ExistingBucketName):
# `salesflow init --notification-only` merges salesflow's queue configuration
# into the bucket's notification configuration, keeping the owner's own
# notification; running it again changes nothing; files under the prefix then
# reach the table, files elsewhere the owner's queue only. Refused, with a
# reason and no change: a configuration overlapping the owner's, a missing
# queue, a prefix that would announce the DLQ offload objects.
source "$(dirname "$0")/lib/common.sh"

# The stack's queues and tables, made by a full init on a bucket of its own.
STACK_BUCKET="$BUCKET-stack"
on_exit "s3 s3 rb --force s3://$STACK_BUCKET"
on_exit "s3 s3 rb --force s3://$STACK_BUCKET-dlq-offload"
SF_RESOURCES=(--bucket "$STACK_BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ")
sf_init

# The owner's bucket, with a notification of its own to a queue of its own.
s3 s3 mb "s3://$BUCKET" >/dev/null
OWNER_QUEUE="$NQUEUE-owner"
sqs CreateQueue "{\"QueueName\":\"$OWNER_QUEUE\"}" >/dev/null
on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$(queue_url "$OWNER_QUEUE")\"}'"
owner_arn="arn:aws:sqs:us-east-1:000000000000:$OWNER_QUEUE"
owner_config() { # PREFIX
  jq -cn --arg arn "$owner_arn" --arg p "$1" '{QueueConfigurations: [{Id: "owner", QueueArn: $arn,
    Events: ["s3:ObjectCreated:*"], Filter: {Key: {FilterRules: [{Name: "prefix", Value: $p}]}}}]}'
}
configurations() {
  s3 s3api get-bucket-notification-configuration --bucket "$BUCKET" --output json |
    jq -c '[.QueueConfigurations[] | [.Id, (.QueueArn | split(":")[-1]), (.Filter.Key.FilterRules | map(.Value) | join(""))]] | sort'
}

# Offload into the owner's bucket, under the prefix no notification covers.
SF_RESOURCES=(--bucket "$BUCKET" --offload-bucket "$BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ")

# Overlapping the owner's configuration (its prefix "in" covers incoming/).
s3 s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$(owner_config in)"
if out=$(sf init --notification-only --prefix incoming/ 2>&1); then
  fail "an overlapping configuration was accepted: $out"
fi
expect_match "an overlap is refused with S3's reason" "Configurations overlap" "$out"
expect_match "and what to do about it" "do not overlap" "$out"
expect_eq "the owner's configuration is untouched" '[["owner","'"$OWNER_QUEUE"'","in"]]' "$(configurations)"

# The merge itself.
s3 s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$(owner_config archive/)"
sf init --notification-only --prefix incoming/ >"$WORK_DIR/merge.out" 2>&1 || {
  cat "$WORK_DIR/merge.out"
  fail "init --notification-only"
}
expect_match "init reports the notification set" "^notification +set +s3://$BUCKET/incoming/\\*" "$(cat "$WORK_DIR/merge.out")"
expect_eq "nothing else made or found" 1 "$(grep -c . "$WORK_DIR/merge.out")"
expect_eq "both configurations" '[["owner","'"$OWNER_QUEUE"'","archive/"],["salesflow","'"$NQUEUE"'","incoming/"]]' "$(configurations)"
sf init --notification-only --prefix incoming/ >"$WORK_DIR/again.out" 2>&1 || fail "second init --notification-only"
expect_match "a second run finds it" "^notification +exists " "$(cat "$WORK_DIR/again.out")"

# Files under each prefix reach their own queue.
generate "$WORK_DIR/orders.jsonl" "incoming/orders.jsonl" 500 --reject-every 10 --prefix EB
upload "$WORK_DIR/orders.jsonl" "incoming/orders.jsonl"
upload "$WORK_DIR/orders.jsonl" "archive/orders.jsonl"
drain_queue "$OWNER_QUEUE" "$WORK_DIR/owner.jsonl"
expect_eq "the owner's queue got its file (and S3's TestEvent from its own PUT)" "archive/orders.jsonl" \
  "$(jq -r '.Body | fromjson | .Records[]?.s3.object.key' "$WORK_DIR/owner.jsonl")"
start_worker worker --exit-when-idle 3
wait_exit "$WORKER_PID" 60 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "one object processed, the one under the prefix" "incoming/orders.jsonl completed" \
  "$(log_objects "$WORK_DIR/worker.log" | jq -r '"\(.key) \(.outcome)"')"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"

# A queue that does not exist, and a prefix that covers the offload objects.
missing=("${SF_RESOURCES[@]/#$NQUEUE/$NQUEUE-missing}")
if out=$("$SALESFLOW_BINARY" "${missing[@]}" init --notification-only --prefix incoming/ 2>&1); then
  fail "a missing queue was accepted: $out"
fi
expect_match "a missing queue is named" "notification queue $NQUEUE-missing" "$out"
if out=$(sf init --notification-only --prefix "" 2>&1); then
  fail "a notification covering the offload objects was accepted: $out"
fi
expect_match "the offload location is protected" "would cover the DLQ offload location" "$out"
expect_eq "neither changed the configuration" '[["owner","'"$OWNER_QUEUE"'","archive/"],["salesflow","'"$NQUEUE"'","incoming/"]]' "$(configurations)"
