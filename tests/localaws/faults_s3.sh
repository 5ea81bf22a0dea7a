#!/usr/bin/env bash
# S3 fault rules: GetObject cut after N bytes, SlowDown and 5xx answers,
# stalls, target scoping, counters.
source "$(dirname "$0")/lib/common.sh"

bucket=$(unique_name faults-s3)
bystander=$(unique_name faults-s3-other)
create_bucket "$bucket"
create_bucket "$bystander"
head -c 100000 /dev/urandom >"$WORK_DIR/object"
s3 s3 cp "$WORK_DIR/object" "s3://$bucket/data.bin" >/dev/null
s3 s3 cp "$WORK_DIR/object" "s3://$bystander/data.bin" >/dev/null

# cut_after_bytes: headers promise 100000 bytes, 1000 arrive, the connection breaks.
id=$(add_faults "{\"service\":\"s3\",\"operation\":\"GetObject\",\"target\":\"$bucket\",\"cut_after_bytes\":1000,\"count\":1}")
set +e
curl -sS -D "$WORK_DIR/headers" -o "$WORK_DIR/got" "$AWS_ENDPOINT_URL_S3/$bucket/data.bin" 2>"$WORK_DIR/err"
rc=$?
set -e
expect_eq "curl reports a partial transfer (exit 18)" 18 "$rc"
expect_eq "status line was complete" "200" "$(head -1 "$WORK_DIR/headers" | cut -d' ' -f2)"
expect_eq "Content-Length promised the whole object" 100000 "$(grep -i '^content-length:' "$WORK_DIR/headers" | tr -dc 0-9)"
expect_eq "exactly the first 1000 bytes arrived" "$(head -c 1000 "$WORK_DIR/object" | md5sum)" "$(md5sum <"$WORK_DIR/got")"
expect_eq "counter" 1 "$(fault_fired "$id")"
curl -sS -o "$WORK_DIR/got" "$AWS_ENDPOINT_URL_S3/$bucket/data.bin"
expect_eq "count=1: next GetObject complete" "$(md5sum <"$WORK_DIR/object")" "$(md5sum <"$WORK_DIR/got")"

# A ranged GetObject is cut too (the limit counts body bytes sent).
add_faults "{\"service\":\"s3\",\"operation\":\"GetObject\",\"target\":\"$bucket\",\"cut_after_bytes\":10,\"count\":1}" >/dev/null
set +e
curl -sS -r 500-999 -o "$WORK_DIR/got" "$AWS_ENDPOINT_URL_S3/$bucket/data.bin" 2>/dev/null
rc=$?
set -e
expect_eq "ranged read cut: exit 18, 10 bytes" "18 10" "$rc $(stat -c %s "$WORK_DIR/got")"

# Target scoping.
id=$(add_faults "{\"service\":\"s3\",\"target\":\"$bucket\",\"error\":\"SlowDown\"}")
s3 s3 cp "s3://$bystander/data.bin" "$WORK_DIR/other" >/dev/null
expect_eq "other bucket unaffected" "$(md5sum <"$WORK_DIR/object")" "$(md5sum <"$WORK_DIR/other")"
expect_eq "scoped rule not fired" 0 "$(fault_fired "$id")"

# SlowDown: 503 with the S3 XML error body; the CLI names it.
code=$(curl -sS -o "$WORK_DIR/body" -w '%{http_code}' "$AWS_ENDPOINT_URL_S3/$bucket/data.bin")
expect_eq "SlowDown status" 503 "$code"
expect_eq "SlowDown code in XML" "SlowDown" "$(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$WORK_DIR/body")"
if AWS_MAX_ATTEMPTS=1 s3 s3api head-bucket --bucket "$bucket" 2>"$WORK_DIR/err"; then fail "head-bucket passed a SlowDown rule"; fi
ok "CLI call fails under SlowDown"
if AWS_MAX_ATTEMPTS=1 s3 s3api put-object --bucket "$bucket" --key new.bin --body "$WORK_DIR/object" 2>"$WORK_DIR/err"; then
  fail "put-object passed a SlowDown rule"
fi
expect_match "CLI sees SlowDown" "SlowDown" "$(cat "$WORK_DIR/err")"
expect_eq "fired once for each refused call" 3 "$(fault_fired "$id")"
admin DELETE "/faults/$id" >/dev/null
if s3 s3api head-object --bucket "$bucket" --key new.bin >/dev/null 2>&1; then fail "a refused PutObject stored the object"; fi
ok "refused PutObject stored nothing"

for case in "http500 500 InternalError" "http503 503 ServiceUnavailable"; do
  set -- $case
  add_faults "{\"service\":\"s3\",\"operation\":\"PutObject\",\"target\":\"$bucket\",\"error\":\"$1\",\"count\":1}" >/dev/null
  code=$(curl -sS -o "$WORK_DIR/body" -w '%{http_code}' -X PUT --data-binary x "$AWS_ENDPOINT_URL_S3/$bucket/x.bin")
  expect_eq "$1 answer" "$2 $3" "$code $(sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$WORK_DIR/body")"
done

# stall_ms: the object comes whole, late.
add_faults "{\"service\":\"s3\",\"operation\":\"GetObject\",\"target\":\"$bucket\",\"stall_ms\":1000,\"count\":1}" >/dev/null
start=$(date +%s%N)
curl -sS -o "$WORK_DIR/got" "$AWS_ENDPOINT_URL_S3/$bucket/data.bin"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "stalled GetObject complete" "$(md5sum <"$WORK_DIR/object")" "$(md5sum <"$WORK_DIR/got")"
[ "$elapsed_ms" -ge 900 ] || fail "stall_ms 1000 answered after ${elapsed_ms} ms"
ok "S3 stall delayed the answer (${elapsed_ms} ms)"

# stall_ms + drop on a PUT with a body: no answer, nothing stored.
add_faults "{\"service\":\"s3\",\"operation\":\"PutObject\",\"target\":\"$bucket\",\"stall_ms\":100,\"drop\":true,\"count\":1}" >/dev/null
if curl -sS -o /dev/null -X PUT --data-binary @"$WORK_DIR/object" "$AWS_ENDPOINT_URL_S3/$bucket/dropped.bin" 2>/dev/null; then
  fail "dropped PutObject got an answer"
fi
if s3 s3api head-object --bucket "$bucket" --key dropped.bin >/dev/null 2>&1; then fail "dropped PutObject stored the object"; fi
ok "dropped PutObject: no answer, nothing stored"

# Seeded probabilities: a rule fires on the same calls whenever it is added
# with the same seed (in the body, or its own as shown by GET), on a shared stack.
head_pattern() { # RULES_BODY -> one status code per HeadObject call, space-separated
  local rule_id answer codes="" i
  answer=$(admin POST /faults "$1") || fail "adding $1"
  rule_id=$(jq -r '.rules[0].id' <<<"$answer")
  on_exit "admin DELETE /faults/$rule_id"
  for i in $(seq 40); do
    codes+="$(curl -s -o /dev/null -w '%{http_code}' -I "$AWS_ENDPOINT_URL_S3/$bucket/data.bin") "
  done
  admin DELETE "/faults/$rule_id" >/dev/null
  echo "$codes$(jq -r '.rules[0].seed' <<<"$answer")"
}
half=$(jq -cn --arg b "$bucket" '{service: "s3", operation: "HeadObject", target: $b, probability: 0.5, error: "http500"}')
first=$(head_pattern "{\"seed\":12345,\"rules\":[$half]}")
again=$(head_pattern "{\"seed\":12345,\"rules\":[$half]}")
other=$(head_pattern "{\"seed\":12346,\"rules\":[$half]}")
own=$(head_pattern "$(jq -c --argjson s "${first##* }" '. + {seed: $s}' <<<"$half")")
expect_match "a probability 0.5 rule fires on some calls and not on others" "500 .*200|200 .*500" "$first"
expect_eq "same body seed: same calls fail" "$first" "$again"
[ "${other% *}" != "${first% *}" ] || fail "seeds 12345 and 12346 failed the same 40 calls: $first"
ok "another seed: other calls fail"
expect_eq "the rule's own seed (from its view) replays it" "${first% *}" "${own% *}"
code=$(curl -s -o "$WORK_DIR/body" -w '%{http_code}' -X POST -d '{"seed":-1,"rules":[]}' "$SALESFLOW_LOCALAWS_ADMIN/faults")
expect_eq "a negative seed is refused" "400 seed must be an integer" "$code $(jq -r .error "$WORK_DIR/body" | cut -c1-23)"
