#!/usr/bin/env bash
# SQS fault rules: SendMessageBatch Failed entries (really not enqueued),
# throttling and 5xx answers in the JSON protocol's shape, target scoping,
# counters. Also: any URL form of a queue is accepted, as SQS does.
source "$(dirname "$0")/lib/common.sh"

queue=$(unique_name faults-sqs)
bystander=$(unique_name faults-sqs-other)
queue_url=$(create_queue "$queue")
bystander_url=$(create_queue "$bystander")
expect_eq "queue URL is on the endpoint" "$AWS_ENDPOINT_URL_SQS/000000000000/$queue" "$queue_url"

entries() { jq -cn '[range(0; 10) | {Id: "e\(.)", MessageBody: "message-\(.)"}]'; }
send_batch() { sqs SendMessageBatch "{\"QueueUrl\":\"$1\",\"Entries\":$(entries)}"; }
depth() { drain_queue "$1" | grep -c . || true; }

id=$(add_faults "{\"service\":\"sqs\",\"operation\":\"SendMessageBatch\",\"target\":\"$queue\",\"failed_entries\":0.3,\"count\":1}")
out=$(send_batch "$queue_url")
expect_eq "3 of 10 entries Failed" 3 "$(jq '.Failed | length' <<<"$out")"
expect_eq "7 Successful" 7 "$(jq '.Successful | length' <<<"$out")"
expect_eq "Failed entries are the last three, InternalError, not sender's fault" "e7 InternalError false,e8 InternalError false,e9 InternalError false" \
  "$(jq -r '[.Failed[] | "\(.Id) \(.Code) \(.SenderFault)"] | join(",")' <<<"$out")"
bodies=$(drain_queue "$queue_url" | sort)
expect_eq "only the 7 successful ones were enqueued" 7 "$(grep -c . <<<"$bodies")"
if grep -q 'message-[789]' <<<"$bodies"; then fail "a Failed entry was enqueued"; fi
ok "Failed entries not enqueued"
expect_eq "counter" 1 "$(fault_fired "$id")"
out=$(send_batch "$queue_url")
expect_eq "count=1: next batch all Successful" "10 0" "$(jq -r '"\(.Successful | length) \(.Failed // [] | length)"' <<<"$out")"
drain_queue "$queue_url" >/dev/null

# failed_entries 1: nothing enqueued at all.
add_faults "{\"service\":\"sqs\",\"operation\":\"SendMessageBatch\",\"target\":\"$queue\",\"failed_entries\":1,\"count\":1}" >/dev/null
out=$(send_batch "$queue_url")
expect_eq "all Failed with failed_entries=1" "0 10" "$(jq -r '"\(.Successful | length) \(.Failed | length)"' <<<"$out")"
expect_eq "queue empty after an all-failed batch" 0 "$(depth "$queue_url")"

# Target scoping: a rule on $queue leaves $bystander alone.
id=$(add_faults "{\"service\":\"sqs\",\"target\":\"$queue\",\"error\":\"ThrottlingException\"}")
out=$(send_batch "$bystander_url")
expect_eq "other queue unaffected" 10 "$(jq '.Successful | length' <<<"$out")"
drain_queue "$bystander_url" >/dev/null
expect_eq "scoped rule not fired by other queue" 0 "$(fault_fired "$id")"

raw() { # TARGET BODY -> "status __type x-amzn-query-error"
  local status
  status=$(curl -sS -D "$WORK_DIR/headers" -o "$WORK_DIR/body" -w '%{http_code}' -X POST "$AWS_ENDPOINT_URL_SQS/" \
    -H 'content-type: application/x-amz-json-1.0' -H "x-amz-target: AmazonSQS.$1" --data-binary "$2")
  echo "$status $(jq -r .__type "$WORK_DIR/body") $(grep -i '^x-amzn-query-error:' "$WORK_DIR/headers" | cut -d' ' -f2 | tr -d '\r')"
}
expect_eq "ThrottlingException in JSON protocol shape" "400 com.amazonaws.sqs#ThrottlingException ThrottlingException;Sender" \
  "$(raw SendMessage "{\"QueueUrl\":\"$queue_url\",\"MessageBody\":\"x\"}")"
expect_eq "counter counts it" 1 "$(fault_fired "$id")"
admin DELETE "/faults/$id" >/dev/null
expect_eq "throttled message not enqueued" 0 "$(depth "$queue_url")"

for case in "http500 500 com.amazonaws.sqs#InternalError" "http503 503 com.amazonaws.sqs#ServiceUnavailable" "RequestThrottled 403 com.amazonaws.sqs#RequestThrottled"; do
  set -- $case
  add_faults "{\"service\":\"sqs\",\"operation\":\"ReceiveMessage\",\"target\":\"$queue\",\"error\":\"$1\",\"count\":1}" >/dev/null
  got=$(raw ReceiveMessage "{\"QueueUrl\":\"$queue_url\"}")
  expect_eq "$1 answer" "$2 $3" "$(cut -d' ' -f1,2 <<<"$got")"
done

# Any URL naming the queue works (SQS resolves the queue by account and name).
sqs SendMessage "{\"QueueUrl\":\"http://localhost:1/000000000000/$queue\",\"MessageBody\":\"via-other-url\"}" >/dev/null
expect_eq "message sent via another URL form arrives" '"via-other-url"' "$(drain_queue "$queue_url")"

# stall_ms on SQS delays the answer.
add_faults "{\"service\":\"sqs\",\"operation\":\"GetQueueAttributes\",\"target\":\"$queue\",\"stall_ms\":1000,\"count\":1}" >/dev/null
start=$(date +%s%N)
sqs GetQueueAttributes "{\"QueueUrl\":\"$queue_url\",\"AttributeNames\":[\"All\"]}" >/dev/null
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -ge 900 ] || fail "stall_ms 1000 answered after ${elapsed_ms} ms"
ok "SQS stall delayed the answer (${elapsed_ms} ms)"
