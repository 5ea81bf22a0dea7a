#!/usr/bin/env bash
# DynamoDB fault rules: UnprocessedItems (and those items really not written),
# throttling errors with the right __type, HTTP 500/503, stalls, target
# scoping, count semantics and the fired counters.
source "$(dirname "$0")/lib/common.sh"

table=$(unique_name faults-ddb)
bystander=$(unique_name faults-ddb-other)
create_table "$table"
create_table "$bystander"

# 10 items for one table in one BatchWriteItem.
batch() { # TABLE FIRST_INDEX
  jq -cn --arg t "$1" --argjson from "$2" \
    '{($t): [range($from; $from + 10) | {PutRequest: {Item: {pk: {S: "item-\(.)"}}}}]}'
}
count_items() { ddb scan --table-name "$1" --select COUNT | jq .Count; }

# unprocessed: half of the batch comes back and is not written.
id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"BatchWriteItem\",\"target\":\"$table\",\"unprocessed\":0.5,\"count\":1}")
out=$(ddb batch-write-item --request-items "$(batch "$table" 0)")
expect_eq "5 of 10 items returned unprocessed" 5 "$(jq --arg t "$table" '.UnprocessedItems[$t] | length' <<<"$out")"
expect_eq "the unprocessed ones are the last five" "item-5 item-9" \
  "$(jq -r --arg t "$table" '.UnprocessedItems[$t] | "\(.[0].PutRequest.Item.pk.S) \(.[4].PutRequest.Item.pk.S)"' <<<"$out")"
expect_eq "only the processed 5 were written" 5 "$(count_items "$table")"
expect_eq "unprocessed item really absent" "" "$(ddb get-item --table-name "$table" --key '{"pk":{"S":"item-7"}}')"
expect_eq "counter: fired once" 1 "$(fault_fired "$id")"
# count 1: the resend of the unprocessed items goes through.
out=$(ddb batch-write-item --request-items "$(jq -c --arg t "$table" '.UnprocessedItems' <<<"$out")")
expect_eq "resend processed fully" "{}" "$(jq -c .UnprocessedItems <<<"$out")"
expect_eq "all 10 written after the resend" 10 "$(count_items "$table")"
expect_eq "counter unchanged after its count ran out" 1 "$(fault_fired "$id")"

# unprocessed 1.0: nothing is written, everything comes back.
id=$(add_faults "{\"service\":\"dynamodb\",\"target\":\"$table\",\"unprocessed\":1,\"count\":1}")
out=$(ddb batch-write-item --request-items "$(batch "$table" 100)")
expect_eq "all 10 returned with unprocessed=1" 10 "$(jq --arg t "$table" '.UnprocessedItems[$t] | length' <<<"$out")"
expect_eq "nothing written with unprocessed=1" 10 "$(count_items "$table")"

# Target scoping: a rule for $table leaves $bystander alone.
id=$(add_faults "{\"service\":\"dynamodb\",\"target\":\"$table\",\"error\":\"ProvisionedThroughputExceededException\"}")
out=$(ddb batch-write-item --request-items "$(batch "$bystander" 0)")
expect_eq "other table unaffected by a scoped rule" "{}" "$(jq -c .UnprocessedItems <<<"$out")"
expect_eq "scoped rule did not fire for the other table" 0 "$(fault_fired "$id")"

# Throttling errors: the CLI (one attempt) names the error; the raw body is
# the DynamoDB JSON error shape.
if AWS_MAX_ATTEMPTS=1 ddb put-item --table-name "$table" --item '{"pk":{"S":"x"}}' 2>"$WORK_DIR/err"; then
  fail "put-item succeeded under a ProvisionedThroughputExceededException rule"
fi
expect_match "CLI sees ProvisionedThroughputExceededException" "ProvisionedThroughputExceededException" "$(cat "$WORK_DIR/err")"
raw() { # OPERATION BODY -> "status body"
  curl -sS -o "$WORK_DIR/body" -w '%{http_code}' -X POST "$AWS_ENDPOINT_URL_DYNAMODB/" \
    -H 'content-type: application/x-amz-json-1.0' -H "x-amz-target: DynamoDB_20120810.$1" \
    -H 'x-amz-date: 20240101T000000Z' \
    -H 'authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    --data-binary "$2"
  echo " $(cat "$WORK_DIR/body")"
}
got=$(raw PutItem "{\"TableName\":\"$table\",\"Item\":{\"pk\":{\"S\":\"x\"}}}")
expect_eq "PTEE status and __type" "400 com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException" \
  "$(cut -d' ' -f1 <<<"$got") $(cut -d' ' -f2- <<<"$got" | jq -r .__type)"
expect_eq "counter counts the two failed calls" 2 "$(fault_fired "$id")"
admin DELETE "/faults/$id" >/dev/null
expect_eq "deleted rule is gone" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$SALESFLOW_LOCALAWS_ADMIN/faults/$id")"

id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"GetItem\",\"target\":\"$table\",\"error\":\"ThrottlingException\",\"count\":1}")
got=$(raw GetItem "{\"TableName\":\"$table\",\"Key\":{\"pk\":{\"S\":\"item-1\"}}}")
expect_eq "ThrottlingException status and __type" "400 com.amazonaws.dynamodb.v20120810#ThrottlingException" \
  "$(cut -d' ' -f1 <<<"$got") $(cut -d' ' -f2- <<<"$got" | jq -r .__type)"
got=$(raw GetItem "{\"TableName\":\"$table\",\"Key\":{\"pk\":{\"S\":\"item-1\"}}}")
expect_eq "after count=1 the call succeeds" "200 item-1" "$(cut -d' ' -f1 <<<"$got") $(cut -d' ' -f2- <<<"$got" | jq -r .Item.pk.S)"
# Operation scoping: PutItem is not GetItem.
expect_eq "operation scoping" 0 "$(AWS_MAX_ATTEMPTS=1 ddb put-item --table-name "$table" --item '{"pk":{"S":"y"}}' >/dev/null; echo $?)"

# The CLI's own retries get through a rule that fires twice.
id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"PutItem\",\"target\":\"$table\",\"error\":\"http503\",\"count\":2}")
AWS_MAX_ATTEMPTS=3 ddb put-item --table-name "$table" --item '{"pk":{"S":"retried"}}'
expect_eq "retried put-item landed" retried "$(ddb get-item --table-name "$table" --key '{"pk":{"S":"retried"}}' | jq -r .Item.pk.S)"
expect_eq "503 fired twice before the success" 2 "$(fault_fired "$id")"

for pair in http500:500 http503:503; do
  id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"DescribeTable\",\"target\":\"$table\",\"error\":\"${pair%%:*}\",\"count\":1}")
  got=$(raw DescribeTable "{\"TableName\":\"$table\"}")
  expect_eq "${pair%%:*} gives HTTP ${pair##*:}" "${pair##*:}" "$(cut -d' ' -f1 <<<"$got")"
done

# stall_ms: the answer comes, but only after the stall.
id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"DescribeTable\",\"target\":\"$table\",\"stall_ms\":1500,\"count\":1}")
start=$(date +%s%N)
got=$(raw DescribeTable "{\"TableName\":\"$table\"}")
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "stalled call still answers" 200 "$(cut -d' ' -f1 <<<"$got")"
[ "$elapsed_ms" -ge 1400 ] || fail "stall_ms 1500 answered after ${elapsed_ms} ms"
ok "stall delayed the answer (${elapsed_ms} ms)"

# stall_ms with drop: the connection closes without an answer.
id=$(add_faults "{\"service\":\"dynamodb\",\"operation\":\"DescribeTable\",\"target\":\"$table\",\"stall_ms\":200,\"drop\":true,\"count\":1}")
if curl -sS -o /dev/null -X POST "$AWS_ENDPOINT_URL_DYNAMODB/" -H 'content-type: application/x-amz-json-1.0' \
  -H 'x-amz-target: DynamoDB_20120810.DescribeTable' --data-binary "{\"TableName\":\"$table\"}" 2>"$WORK_DIR/err"; then
  fail "dropped call got an answer"
fi
expect_match "dropped connection: empty reply" "(Empty reply|reset|closed)" "$(cat "$WORK_DIR/err")"
expect_eq "drop counted" 1 "$(fault_fired "$id")"

# Probability 0 never fires, but counts as matched.
id=$(add_faults "{\"service\":\"dynamodb\",\"target\":\"$table\",\"error\":\"http500\",\"probability\":0}")
ddb describe-table --table-name "$table" >/dev/null
expect_eq "probability 0 matched but never fired" "1 0" "$(admin GET "/faults/$id" | jq -r '"\(.matched) \(.fired)"')"

# Malformed rules are refused with a reason.
code=$(curl -s -o "$WORK_DIR/body" -w '%{http_code}' -X POST -d '{"service":"dynamodb","error":"Teapot"}' "$SALESFLOW_LOCALAWS_ADMIN/faults")
expect_eq "unknown error refused" "400" "$code"
expect_match "reason given" "error must be one of" "$(cat "$WORK_DIR/body")"
