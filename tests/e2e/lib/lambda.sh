# shellcheck shell=bash
# The local Lambda (tools/localaws/lambda) for the e2e tests that run
# `salesflow lambda`; sourced after common.sh. Each function is started with
# this test's resources (SF_RESOURCES) and the stack's endpoints.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts a local Lambda running `salesflow lambda` (extra salesflow options in
# SF_LAMBDA_ARGS), or LAMBDA_COMMAND when that array is set; NAME names its
# files (WORK_DIR/NAME.log is the function log). Sets LAMBDA_URL.
start_lambda() { # NAME [lambda.js options...]
  local name=$1 port
  shift
  port=$(free_port)
  local -a command=("$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" lambda "${SF_LAMBDA_ARGS[@]}")
  [ -z "${LAMBDA_COMMAND+set}" ] || command=("${LAMBDA_COMMAND[@]}")
  "$LOCALAWS_DIR/lambda" --pid-file "$WORK_DIR/$name.pid" --log-file "$WORK_DIR/$name.lambda.log" \
    --port "$port" --function-name "salesflow-$name" --function-log "$WORK_DIR/$name.log" \
    --task-root "$WORK_DIR" --memory 256 \
    --env "AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3" --env "AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS" \
    --env "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" --sqs-endpoint "$AWS_ENDPOINT_URL_SQS" \
    "$@" -- "${command[@]}" \
    >"$WORK_DIR/$name.ready" 2>&1 || {
    cat "$WORK_DIR/$name.ready"
    fail "starting the local Lambda $name"
  }
  on_exit "'$LOCALAWS_DIR/stop' --pid-file '$WORK_DIR/$name.pid'"
  LAMBDA_URL="http://127.0.0.1:$port"
}
stop_lambda() { "$LOCALAWS_DIR/stop" --pid-file "$WORK_DIR/$1.pid" >/dev/null; }
# The local Lambda's counters of function NAME (its /status).
status_of() { curl -sS "$LAMBDA_URL/status" | jq -c ".functions[\"salesflow-$1\"]"; }
invoke() { # NAME PAYLOAD_FILE OUT -> prints the function error ("" when none)
  "$AWS_CLI" --endpoint-url "$LAMBDA_URL" --cli-read-timeout 0 lambda invoke --function-name "salesflow-$1" \
    --cli-binary-format raw-in-base64-out --payload "fileb://$2" "$3" --output json |
    jq -r '.FunctionError // ""'
}
# The function's lines (the log's fourth column) that are JSON objects.
function_lines() { cut -f4- "$WORK_DIR/$1.log" | grep -a '^{' || true; }
