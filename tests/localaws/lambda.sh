#!/usr/bin/env bash
# The local Lambda (tools/localaws/lambda) with a fake custom runtime
# (lib/fake_runtime.mjs): Lambda's environment, cold and warm starts, the
# Runtime API's answers, responses and errors through /usr/bin/aws, the
# deadline, timeouts that kill the process group, init errors, the
# concurrency limit, Event invocations with their retries, the function log,
# and SQS event source mappings with and without ReportBatchItemFailures.
# Ports: the stack's port base + 10 .. + 39 (the build's block of ports).
source "$(dirname "$0")/lib/common.sh"

FAKE_RUNTIME=$(cd "$(dirname "$0")/lib" && pwd)/fake_runtime.mjs
base=${AWS_ENDPOINT_URL_SQS##*:}
task_root="$WORK_DIR/task"
mkdir -p "$task_root"

# start_lambda NAME PORT [lambda.js options]: starts a local Lambda running the
# fake runtime as function NAME; prints its READY line. Stopped at exit.
start_lambda() {
  local name=$1 port=$2
  shift 2
  "$LOCALAWS_DIR/lambda" --pid-file "$WORK_DIR/$name.pid" --log-file "$WORK_DIR/$name.log" \
    --port "$port" --function-name "$name" --function-log "$WORK_DIR/$name.function.log" \
    --task-root "$task_root" --sqs-endpoint "$AWS_ENDPOINT_URL_SQS" "$@" -- node "$FAKE_RUNTIME"
}
stop_at_exit() { on_exit "'$LOCALAWS_DIR/stop' --pid-file '$WORK_DIR/$1.pid'"; }

# invoke PORT FUNCTION PAYLOAD [INVOCATION_TYPE]: prints the answer's body;
# its status is in $WORK_DIR/status, its headers in $WORK_DIR/headers.
invoke() {
  curl -sS -D "$WORK_DIR/headers" -o "$WORK_DIR/body" -w '%{http_code}' -X POST \
    -H "X-Amz-Invocation-Type: ${4:-RequestResponse}" --data-binary "$3" \
    "http://127.0.0.1:$1/2015-03-31/functions/$2/invocations" >"$WORK_DIR/status"
  cat "$WORK_DIR/body"
}
http_status() { cat "$WORK_DIR/status"; }
header() { tr -d '\r' <"$WORK_DIR/headers" | awk -v h="$1" 'tolower($1) == tolower(h) ":" {print $2}'; }
counter() { curl -sS "http://127.0.0.1:$1/status" | jq -r ".functions[\"$2\"].$3"; }
mapping_counter() { curl -sS "http://127.0.0.1:$1/status" | jq -r ".event_source_mappings[] | select(.UUID == \"$2\") | .$3"; }
lambda_cli() { "$AWS_CLI" --endpoint-url "http://127.0.0.1:$1" lambda "${@:2}"; }
pid_alive() { kill -0 "$1" 2>/dev/null; }

# wait_until WHAT SECONDS COMMAND...: fails the test unless COMMAND succeeds in time.
wait_until() {
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for: $what"
    sleep 0.1
  done
}

# --- bad configurations are refused before anything runs --------------------
if "$LOCALAWS_DIR/lambda" --pid-file "$WORK_DIR/bad.pid" --log-file "$WORK_DIR/bad.log" --port $((base + 19)) \
  --env AWS_REGION=eu-west-1 -- node "$FAKE_RUNTIME" >/dev/null 2>"$WORK_DIR/err"; then
  fail "a reserved --env key was accepted"
fi
expect_match "reserved --env key refused, naming it" "AWS_REGION is a reserved key" "$(cat "$WORK_DIR/err")"
set +e
"$LOCALAWS_DIR/lambda" --pid-file "$WORK_DIR/bad.pid" --log-file "$WORK_DIR/bad.log" --port $((base + 19)) \
  --timeout soon -- node "$FAKE_RUNTIME" >/dev/null 2>"$WORK_DIR/err"
rc=$?
set -e
expect_eq "a bad --timeout exits 2" 2 "$rc"
expect_match "and says what is wrong" "--timeout: expected a number" "$(cat "$WORK_DIR/err")"

# --- one function: environment, warm reuse, errors, timeouts -----------------
api=$((base + 10))
stop_at_exit fake
ready=$(start_lambda fake "$api" --timeout 1.5 --memory 256 --concurrency 2 --handler sales.handler \
  --runtime-api-port-base $((base + 20)) --env FAKE_EXTRA=extra-value --env AWS_SESSION_TOKEN=given-token \
  --async-retry-delays 0.3,0.3)
expect_match "READY line" "^READY lambda=http://127.0.0.1:$api function=fake arn=arn:aws:lambda:us-east-1:000000000000:function:fake status=http://127.0.0.1:$api/status function-log=$WORK_DIR/fake.function.log$" "$ready"
flog="$WORK_DIR/fake.function.log"
expect_eq "no environment before the first invocation" "0 0" "$(counter "$api" fake environments_now) $(counter "$api" fake cold_starts)"

# RequestResponse through the AWS CLI, with a client context and the log tail.
client_context=$(printf '{"custom":{"shop":"north"}}' | base64 -w0)
lambda_cli "$api" invoke --function-name fake --cli-binary-format raw-in-base64-out --payload '{"action":"echo"}' \
  --client-context "$client_context" --log-type Tail "$WORK_DIR/echo.json" >"$WORK_DIR/cli.json"
echo1=$(cat "$WORK_DIR/echo.json")
expect_eq "aws lambda invoke: status and version" '200 $LATEST null' "$(jq -r '"\(.StatusCode) \(.ExecutedVersion) \(.FunctionError)"' "$WORK_DIR/cli.json")"
rid1=$(jq -r .headers.requestId <<<"$echo1")
expect_match "request id header is a UUID" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$rid1"
expect_match "--log-type Tail gives the invocation's log lines" "handling $rid1 in pid" "$(jq -r .LogResult "$WORK_DIR/cli.json" | base64 -d)"
expect_eq "client context header" '{"custom":{"shop":"north"}}' "$(jq -r .headers.clientContext <<<"$echo1")"
expect_eq "invoked function ARN header" "arn:aws:lambda:us-east-1:000000000000:function:fake" "$(jq -r .headers.arn <<<"$echo1")"
expect_match "trace id header" '^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$' "$(jq -r .headers.traceId <<<"$echo1")"
left=$(jq -r '(.headers.deadlineMs | tonumber) - .now' <<<"$echo1")
if ! [ "$left" -gt 1000 ] || ! [ "$left" -le 1500 ]; then fail "deadline is not about now + 1.5 s: $left ms left"; fi
ok "deadline header is now + the timeout ($left ms left when the runtime read it)"
expect_eq "Lambda's environment" \
  "fake 256 \$LATEST /aws/lambda/fake on-demand us-east-1 us-east-1 $task_root $task_root sales.handler :UTC 127.0.0.1:$((base + 20)) extra-value" \
  "$(jq -r '.env | "\(.AWS_LAMBDA_FUNCTION_NAME) \(.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) \(.AWS_LAMBDA_FUNCTION_VERSION) \(.AWS_LAMBDA_LOG_GROUP_NAME) \(.AWS_LAMBDA_INITIALIZATION_TYPE) \(.AWS_REGION) \(.AWS_DEFAULT_REGION) \(.LAMBDA_TASK_ROOT) \(.LAMBDA_RUNTIME_DIR) \(._HANDLER) \(.TZ) \(.AWS_LAMBDA_RUNTIME_API) \(.FAKE_EXTRA)"' <<<"$echo1")"
expect_match "log stream name" '^[0-9]{4}/[0-9]{2}/[0-9]{2}/\[\$LATEST\][0-9a-f]{32}$' "$(jq -r .env.AWS_LAMBDA_LOG_STREAM_NAME <<<"$echo1")"
expect_eq "working directory is the task root" "$task_root" "$(jq -r .cwd <<<"$echo1")"
expect_eq "credentials passed through, or given with --env" "test test given-token" \
  "$(jq -r '.env | "\(.AWS_ACCESS_KEY_ID) \(.AWS_SECRET_ACCESS_KEY) \(.AWS_SESSION_TOKEN)"' <<<"$echo1")"
expect_eq "no AWS_EXECUTION_ENV (an OS-only runtime), nothing else of the caller's environment" "false false" \
  "$(jq -r '.env | "\(has("AWS_EXECUTION_ENV")) \(has("SALESFLOW_SOURCE_DIR"))"' <<<"$echo1")"
pid1=$(jq -r .pid <<<"$echo1")

echo2=$(invoke "$api" fake '{"action":"echo"}')
expect_eq "warm start: the same process, its second invocation" "$pid1 2" "$(jq -r '"\(.pid) \(.count)"' <<<"$echo2")"
expect_eq "one cold start for two invocations" "1 2" "$(counter "$api" fake cold_starts) $(counter "$api" fake invocations)"

lambda_cli "$api" invoke --function-name fake --cli-binary-format raw-in-base64-out --payload '{"action":"error","message":"no such shop"}' \
  "$WORK_DIR/error.json" >"$WORK_DIR/cli.json"
expect_eq "aws lambda invoke: a function error is Unhandled" "200 Unhandled" "$(jq -r '"\(.StatusCode) \(.FunctionError)"' "$WORK_DIR/cli.json")"
expect_eq "with the runtime's error body" '{"errorMessage":"no such shop","errorType":"FakeError"}' "$(jq -c . "$WORK_DIR/error.json")"

# The Runtime API's error cases, as the runtime saw them (its log lines).
expect_eq "probe answer" '{"probed":true}' "$(invoke "$api" fake '{"action":"probe"}')"
wait_until "the probe's log lines" 5 grep -q "probe second-response" "$flog"
probe() { grep -o "probe $1: .*" "$flog" | tail -1 | sed "s/^probe $1: //"; }
expect_eq "a response for an unknown request id" '400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}' "$(probe wrong-id)"
expect_match "an init error after init" '^403 .*"errorType":"InvalidStateTransition"' "$(probe init-error-after-init)"
expect_match "a /next before answering" '^403 .*"errorType":"InvalidStateTransition"' "$(probe next-before-answer)"
expect_eq "the response" '202 {"status":"OK"}' "$(probe first-response)"
expect_eq "a second response for the same id" '400 {"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}' "$(probe second-response)"

big=$(invoke "$api" fake '{"action":"big","bytes":6291557}')
expect_eq "a response over 6 MB fails the invocation" "Unhandled Function.ResponseSizeTooLarge" "$(header X-Amz-Function-Error) $(jq -r .errorType <<<"$big")"
wait_until "the big response's log line" 5 grep -q "big response:" "$flog"
expect_match "and the runtime got 413" 'big response: 413 .*"errorType":"RequestEntityTooLarge"' "$(grep "big response:" "$flog")"
expect_eq "a response of exactly 6291556 bytes is taken" "6291556" "$(invoke "$api" fake '{"action":"big","bytes":6291556}' | wc -c)"

calls=$(counter "$api" fake invocations)
invoke "$api" fake '{"action":"echo"}' DryRun >/dev/null
expect_eq "DryRun answers 204 and runs nothing" "204 $calls" "$(http_status) $(counter "$api" fake invocations)"
expect_match "a payload that is not JSON" 'InvalidRequestContentException 400' "$(invoke "$api" fake 'not json' >/dev/null; echo "$(header x-amzn-ErrorType) $(http_status)")"
expect_match "an unknown function" 'ResourceNotFoundException 404 .*function:nope' "$(body=$(invoke "$api" nope '{}'); echo "$(header x-amzn-ErrorType) $(http_status) $body")"

# A timeout kills the process and its process group; the next invocation cold-starts.
timed_out=$(invoke "$api" fake '{"action":"sleep","seconds":30,"spawn_child":true}')
rid_timeout=$(header x-amzn-RequestId)
expect_eq "timeout error" "Unhandled Sandbox.Timedout RequestId: $rid_timeout Error: Task timed out after 1.50 seconds" \
  "$(header X-Amz-Function-Error) $(jq -r '"\(.errorType) \(.errorMessage)"' <<<"$timed_out")"
child=$(grep -P "\t$rid_timeout\tchild pid " "$flog" | awk '{print $NF}')
[ -n "$child" ] || fail "the runtime's child pid is not in the log"
wait_until "the timed-out runtime $pid1 to be gone" 5 bash -c "! kill -0 $pid1 2>/dev/null"
ok "the timed-out runtime was killed"
wait_until "its child $child to be gone" 5 bash -c "! kill -0 $child 2>/dev/null"
ok "and its child (same process group)"
expect_match "the log says so" "Task timed out after 1.50 seconds" "$(grep -P "\t$rid_timeout\t" "$flog")"
expect_match "REPORT of the timeout" "REPORT RequestId: $rid_timeout\sDuration: 1[0-9]{3}\.[0-9]{2} ms.*Status: timeout" "$(grep -P "\t$rid_timeout\tREPORT" "$flog")"
echo3=$(invoke "$api" fake '{"action":"echo"}')
pid3=$(jq -r .pid <<<"$echo3")
if [ "$pid3" = "$pid1" ]; then fail "the invocation after a timeout ran in the killed process"; fi
expect_eq "after the timeout: a new process, its first invocation" "1" "$(jq -r .count <<<"$echo3")"
expect_eq "cold starts and timeouts counted" "2 1" "$(counter "$api" fake cold_starts) $(counter "$api" fake timeouts)"

exited=$(invoke "$api" fake '{"action":"exit","code":4}')
expect_eq "a runtime exiting mid-invocation" "Runtime.ExitError RequestId: $(header x-amzn-RequestId) Error: Runtime exited with error: exit status 4" \
  "$(jq -r '"\(.errorType) \(.errorMessage)"' <<<"$exited")"

# The function log: platform lines and the function's own, tagged.
start_line=$(grep -cP "^\S+\tenv-1\t$rid1\tSTART RequestId: $rid1 Version: \\\$LATEST$" "$flog")
expect_eq "START line" 1 "$start_line"
expect_eq "END line" 1 "$(grep -cP "\tenv-1\t$rid1\tEND RequestId: $rid1$" "$flog")"
report=$(grep -P "\tenv-1\t$rid1\tREPORT" "$flog")
expect_match "REPORT line with the cold start's init duration" "REPORT RequestId: $rid1\sDuration: [0-9.]+ ms\sBilled Duration: [0-9]+ ms\sMemory Size: 256 MB\sMax Memory Used: [1-9][0-9]* MB\sInit Duration: [0-9.]+ ms$" "$report"
expect_eq "no init duration on a warm start" 0 "$(grep -P "\tREPORT RequestId: $(jq -r .headers.requestId <<<"$echo2")" "$flog" | grep -c "Init Duration" || true)"
expect_eq "stdout and stderr lines tagged with environment and request" "2" \
  "$(grep -cP "^\S+\tenv-1\t$rid1\t(handling $rid1 in pid $pid1|stderr line of $rid1)$" "$flog")"

# Concurrency 2: two run, the others are throttled as Lambda does (429).
for i in 1 2 3 4; do
  curl -sS -o "$WORK_DIR/par$i.body" -w '%{http_code}\n' -X POST --data-binary '{"action":"sleep","seconds":1}' \
    "http://127.0.0.1:$api/2015-03-31/functions/fake/invocations" >"$WORK_DIR/par$i.status" &
done
wait
expect_eq "4 at once with concurrency 2: two answers, two throttles" "200 200 429 429" "$(cat "$WORK_DIR"/par*.status | sort | xargs)"
expect_match "the throttle's body" '"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"' "$(cat "$WORK_DIR"/par*.body)"
expect_eq "never more than 2 environments" "2 2" "$(counter "$api" fake environments_max) $(counter "$api" fake throttles)"

# Event invocations: 202 at once; a failed one is retried twice with the same request id.
lambda_cli "$api" invoke --function-name fake --invocation-type Event --cli-binary-format raw-in-base64-out \
  --payload "{\"action\":\"fail-until\",\"counter\":\"$WORK_DIR/attempts\",\"succeed_on\":2}" "$WORK_DIR/event.json" >"$WORK_DIR/cli.json"
expect_eq "aws lambda invoke --invocation-type Event" "202" "$(jq -r .StatusCode "$WORK_DIR/cli.json")"
invoke "$api" fake '{"action":"error"}' Event >/dev/null
expect_eq "Event answers 202" 202 "$(http_status)"
rid_event=$(header x-amzn-RequestId)
for i in 1 2 3 4; do invoke "$api" fake '{"action":"sleep","seconds":0.3}' Event >/dev/null; done
async_done() { [ "$(counter "$api" fake async_pending)" = 0 ]; }
wait_until "the Event invocations to finish" 15 async_done
expect_eq "fail-until ran twice (one retry) and succeeded" "2" "$(cat "$WORK_DIR/attempts")"
expect_eq "the failing one ran 3 times under its request id" 3 "$(grep -cP "\tSTART RequestId: $rid_event " "$flog")"
expect_eq "async counters: 6 invocations, 5 succeeded, 1 failed, 3 retries" "6 5 1 3" \
  "$(for c in async_invocations async_succeeded async_failed async_retries; do counter "$api" fake $c; done | xargs)"
expect_eq "Event invocations wait for an environment: still at most 2" 2 "$(counter "$api" fake environments_max)"

# --- init errors ---------------------------------------------------------------
stop_at_exit initexit
start_lambda initexit $((base + 11)) --env FAKE_INIT=exit --runtime-api-port-base $((base + 24)) >/dev/null
body=$(invoke $((base + 11)) initexit '{"action":"echo"}')
expect_eq "the runtime exiting before /next fails the invocation" "Unhandled Runtime.ExitError" "$(header X-Amz-Function-Error) $(jq -r .errorType <<<"$body")"
expect_match "with its exit status" "Runtime exited with error: exit status 3" "$(jq -r .errorMessage <<<"$body")"
invoke $((base + 11)) initexit '{"action":"echo"}' >/dev/null
expect_eq "each invocation starts a new environment, none is kept" "2 2 0" \
  "$(counter $((base + 11)) initexit init_errors) $(counter $((base + 11)) initexit cold_starts) $(counter $((base + 11)) initexit environments_now)"
expect_match "INIT_REPORT in the log" "INIT_REPORT Init Duration: [0-9.]+ ms\sPhase: init\sStatus: error\sError Type: Runtime.ExitError" "$(cat "$WORK_DIR/initexit.function.log")"
expect_match "the runtime's own words are logged" "told to exit at init" "$(cat "$WORK_DIR/initexit.function.log")"

stop_at_exit initerror
start_lambda initerror $((base + 12)) --env FAKE_INIT=error --runtime-api-port-base $((base + 25)) >/dev/null
body=$(invoke $((base + 12)) initerror '{"action":"echo"}')
expect_eq "/runtime/init/error fails the invocation with the runtime's error" 'Unhandled {"errorMessage":"told to fail at init","errorType":"Runtime.FakeInitError"}' \
  "$(header X-Amz-Function-Error) $(jq -c . <<<"$body")"
init_pid=$(grep -o 'init pid [0-9]*' "$WORK_DIR/initerror.function.log" | head -1 | awk '{print $3}')
wait_until "the failed runtime $init_pid to be killed" 5 bash -c "! kill -0 $init_pid 2>/dev/null"
ok "the environment of an init error is discarded"
expect_eq "init error counted, no environment left" "1 0" "$(counter $((base + 12)) initerror init_errors) $(counter $((base + 12)) initerror environments_now)"

# --- SQS event source mappings -------------------------------------------------
# Each queue: visibility timeout 2 s, redrive to its own DLQ after 2 receives.
# A message body is what the fake runtime does with the record, "#" and a name.
kinds="partial empty unknown json error off"
declare -A bodies=(
  [partial]="ok#partial1 fail#partial2 ok#partial3 fail#partial4 ok#partial5"
  [empty]="ok#empty1 invalid-empty#empty2 ok#empty3"
  [unknown]="ok#unknown1 invalid-unknown#unknown2"
  [json]="ok#json1 invalid-json#json2"
  [error]="ok#error1 error#error2"
  [off]="ok#off1 fail#off2"
)
declare -A queue_url dlq_url
calls=()
deletes=()
sqs_calls() { node "$(dirname "$0")/lib/sqs_calls.mjs" "$(printf '%s\n' "$@" | jq -cs .)"; }
for kind in $kinds; do
  q=$(unique_name "lambda-$kind")
  queue_url[$kind]="$AWS_ENDPOINT_URL_SQS/000000000000/$q"
  dlq_url[$kind]="$AWS_ENDPOINT_URL_SQS/000000000000/$q-dlq"
  deletes+=("$(jq -cn --arg u "${queue_url[$kind]}" '["DeleteQueue", {QueueUrl: $u}]')")
  deletes+=("$(jq -cn --arg u "${dlq_url[$kind]}" '["DeleteQueue", {QueueUrl: $u}]')")
  calls+=("$(jq -cn --arg q "$q" '["CreateQueue", {QueueName: ($q + "-dlq")}]')")
  calls+=("$(jq -cn --arg q "$q" '["CreateQueue", {QueueName: $q, Attributes: {VisibilityTimeout: "2",
    RedrivePolicy: ({deadLetterTargetArn: ("arn:aws:sqs:us-east-1:000000000000:" + $q + "-dlq"), maxReceiveCount: "2"} | tojson)}}]')")
  for body in ${bodies[$kind]}; do
    calls+=("$(jq -cn --arg u "${queue_url[$kind]}" --arg b "$body" \
      '["SendMessage", {QueueUrl: $u, MessageBody: $b, MessageAttributes: {shop: {DataType: "String", StringValue: "north"}}}]')")
  done
done
printf '%s\n' "${deletes[@]}" >"$WORK_DIR/deletes"
on_exit "sqs_calls \$(cat '$WORK_DIR/deletes')"
sqs_calls "${calls[@]}" >/dev/null || fail "setting up the queues"

bapi=$((base + 13))
stop_at_exit batches
ready=$(start_lambda batches "$bapi" --timeout 2 --concurrency 4 --runtime-api-port-base $((base + 26)) \
  --queue "${queue_url[partial]}" --report-batch-item-failures --maximum-concurrency 2 --mapping-disabled)
partial_uuid=${ready##*mapping=}
expect_eq "the mapping of --queue starts disabled" "Disabled" \
  "$(curl -sS "http://127.0.0.1:$bapi/2015-03-31/event-source-mappings/$partial_uuid" | jq -r .State)"
declare -A uuid
uuid[partial]=$partial_uuid
for kind in empty unknown json error off; do
  types='["ReportBatchItemFailures"]'
  [ "$kind" = off ] && types='[]'
  uuid[$kind]=$(curl -sS --fail-with-body -X POST "http://127.0.0.1:$bapi/2015-03-31/event-source-mappings/" \
    -d "{\"FunctionName\":\"batches\",\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:${queue_url[$kind]##*/}\",\"FunctionResponseTypes\":$types}" | jq -r .UUID)
done
expect_match "CreateEventSourceMapping refuses a bad batch size" "x-amzn-errortype: InvalidParameterValueException" \
  "$(curl -sS -D - -X POST "http://127.0.0.1:$bapi/2015-03-31/event-source-mappings/" -d '{"FunctionName":"batches","EventSourceArn":"arn:aws:sqs:us-east-1:000000000000:x","BatchSize":11}')"
lambda_cli "$bapi" update-event-source-mapping --uuid "$partial_uuid" --enabled >"$WORK_DIR/update.json"
expect_eq "aws lambda update-event-source-mapping --enabled" "Enabled 10 [\"ReportBatchItemFailures\"] 2" \
  "$(jq -r '"\(.State) \(.BatchSize) \(.FunctionResponseTypes | tojson) \(.ScalingConfig.MaximumConcurrency)"' "$WORK_DIR/update.json")"

# Messages on each queue, visible or not: "KIND=N DLQ=N" for every kind.
depths() {
  local calls=() kind
  for kind in $kinds; do
    calls+=("$(jq -cn --arg u "${queue_url[$kind]}" '["GetQueueAttributes", {QueueUrl: $u, AttributeNames: ["All"]}]')")
    calls+=("$(jq -cn --arg u "${dlq_url[$kind]}" '["GetQueueAttributes", {QueueUrl: $u, AttributeNames: ["All"]}]')")
  done
  sqs_calls "${calls[@]}" | jq -r '[.[] | .Attributes | (.ApproximateNumberOfMessages | tonumber) + (.ApproximateNumberOfMessagesNotVisible | tonumber)] | map(tostring) | join(" ")'
}
settled() { [ "$(depths)" = "0 2 0 3 0 2 0 2 0 2 0 0" ]; }
wait_until "every batch to be deleted or redriven" 30 settled
ok "every queue drained: deleted or in its DLQ"

bflog="$WORK_DIR/batches.function.log"
# Every DLQ's bodies, sorted: one line per kind, "KIND BODY...".
calls=()
for kind in $kinds; do
  calls+=("$(jq -cn --arg u "${dlq_url[$kind]}" '["ReceiveMessage", {QueueUrl: $u, MaxNumberOfMessages: 10, VisibilityTimeout: 60}]')")
done
sqs_calls "${calls[@]}" | jq -r '.[] | [.Messages // [] | .[].Body] | sort | join(" ")' >"$WORK_DIR/dlq-bodies"
dlq_bodies() { # KIND
  local i=1 kind
  for kind in $kinds; do
    if [ "$kind" = "$1" ]; then sed -n "${i}p" "$WORK_DIR/dlq-bodies"; return; fi
    i=$((i + 1))
  done
}
expect_eq "ReportBatchItemFailures: the listed messages end in the DLQ" "fail#partial2 fail#partial4" "$(dlq_bodies partial)"
expect_eq "an empty itemIdentifier fails the whole batch" "invalid-empty#empty2 ok#empty1 ok#empty3" "$(dlq_bodies empty)"
expect_eq "an unknown itemIdentifier fails the whole batch" "invalid-unknown#unknown2 ok#unknown1" "$(dlq_bodies unknown)"
expect_eq "a malformed answer fails the whole batch" "invalid-json#json2 ok#json1" "$(dlq_bodies json)"
expect_eq "a function error fails the whole batch" "error#error2 ok#error1" "$(dlq_bodies error)"
expect_eq "without ReportBatchItemFailures the listed ones are deleted too" "" "$(dlq_bodies off)"
received() { grep -o "receive=$1 body=[a-z-]*#$2[0-9]*$" "$bflog" | sed 's/.*body=//' | sort | xargs; }
expect_eq "the partial batch: every message received once" "fail#partial2 fail#partial4 ok#partial1 ok#partial3 ok#partial5" "$(received 1 partial)"
expect_eq "only the listed messages came back" "fail#partial2 fail#partial4" "$(received 2 partial)"
expect_eq "a batch failed as a whole came back whole" "invalid-empty#empty2 ok#empty1 ok#empty3" "$(received 2 empty)"
expect_eq "partial mapping: 3 deleted, 4 items reported failed (2 receives of 2)" "3 4 0" \
  "$(mapping_counter "$bapi" "$partial_uuid" messages_deleted) $(mapping_counter "$bapi" "$partial_uuid" batch_item_failures) $(mapping_counter "$bapi" "$partial_uuid" batches_failed)"
for kind in empty unknown json error; do
  expect_eq "$kind mapping: nothing deleted, every batch failed" "0 yes" \
    "$(mapping_counter "$bapi" "${uuid[$kind]}" messages_deleted) $([ "$(mapping_counter "$bapi" "${uuid[$kind]}" batches_failed)" -ge 2 ] && echo yes)"
done
expect_eq "off mapping: both deleted" 2 "$(mapping_counter "$bapi" "${uuid[off]}" messages_deleted)"
expect_eq "function counters add up the mappings" "5 4" "$(counter "$bapi" batches messages_deleted) $(counter "$bapi" batches batch_item_failures)"

record=$(grep -o 'record-json {.*"body":"ok#partial1".*' "$bflog" | head -1 | sed 's/^record-json //')
expect_eq "SQS record shape" \
  "aws:sqs us-east-1 true $(printf 'ok#partial1' | md5sum | cut -d' ' -f1) ApproximateFirstReceiveTimestamp,ApproximateReceiveCount,SenderId,SentTimestamp {\"stringValue\":\"north\",\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":\"String\"}" \
  "$(jq -r '"\(.eventSource) \(.awsRegion) \((.receiptHandle | length) > 0 and (.messageId | length) > 0) \(.md5OfBody) \(.attributes | keys | join(",")) \(.messageAttributes.shop | tojson)"' <<<"$record")"
expect_match "its eventSourceARN is the queue's" '^arn:aws:sqs:us-east-1:000000000000:lambda-' "$(jq -r .eventSourceARN <<<"$record")"
expect_eq "pollers: the mapping's maximum concurrency, else the function's" "2 4" \
  "$(mapping_counter "$bapi" "$partial_uuid" pollers) $(mapping_counter "$bapi" "${uuid[empty]}" pollers)"
expect_eq "mappings run within the function's concurrency" "yes" "$([ "$(counter "$bapi" batches environments_max)" -le 4 ] && echo yes)"

lambda_cli "$bapi" delete-event-source-mapping --uuid "${uuid[off]}" >"$WORK_DIR/delete.json"
expect_eq "aws lambda delete-event-source-mapping" "Deleting ${uuid[off]}" "$(jq -r '"\(.State) \(.UUID)"' "$WORK_DIR/delete.json")"
expect_eq "ListEventSourceMappings after the delete" 5 \
  "$(curl -sS "http://127.0.0.1:$bapi/2015-03-31/event-source-mappings/?FunctionName=batches" | jq '.EventSourceMappings | length')"

# Stopping the local Lambda kills its environments.
pids=$(curl -sS "http://127.0.0.1:$bapi/status" | jq -r '.functions.batches.environment_pids[]')
[ -n "$pids" ] || fail "no environment pids in /status"
"$LOCALAWS_DIR/stop" --pid-file "$WORK_DIR/batches.pid"
for p in $pids; do
  wait_until "environment process $p to end with the local Lambda" 5 bash -c "! kill -0 $p 2>/dev/null"
done
ok "stop ends the environments' processes"
