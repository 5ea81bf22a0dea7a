# Shared helpers of the end-to-end tests: real salesflow processes against the
# local AWS stack, checked with tools independent of salesflow (aws CLI for S3
# and DynamoDB, sqs-json.js for SQS, python3 for the accounting). Sourced;
# expects the environment the ctest fixture sets (AWS_ENDPOINT_URL_*,
# SALESFLOW_LOCALAWS_ADMIN, AWS_CLI, SALESFLOW_BINARY, SALESFLOW_SOURCE_DIR and
# fake credentials). Every helper fails the test on error; every wait is bounded.
set -euo pipefail

: "${AWS_ENDPOINT_URL_S3:?needs the local AWS stack fixture}"
: "${AWS_ENDPOINT_URL_SQS:?}" "${AWS_ENDPOINT_URL_DYNAMODB:?}" "${SALESFLOW_LOCALAWS_ADMIN:?}"
: "${SALESFLOW_BINARY:?path of the salesflow binary}"
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SALESFLOW_SOURCE_DIR=${SALESFLOW_SOURCE_DIR:-$(cd "$E2E_LIB/../../.." && pwd)}
LOCALAWS_DIR="$SALESFLOW_SOURCE_DIR/tools/localaws"
TEST_NAME=$(basename "$0" .sh)
WORK_DIR=$(mktemp -d "/tmp/e2e-${TEST_NAME}.XXXXXX")
CHECKS=0
_cleanups=()
_started_pids=()

_run_cleanups() {
  local rc=$?
  local i pid
  # Workers first, so none of them writes into resources being deleted.
  for pid in "${_started_pids[@]}"; do
    kill -9 "$pid" >/dev/null 2>&1 || true
  done
  # Independent of each other: run them side by side (the CLIs start slowly).
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
    (eval "${_cleanups[i]}" >/dev/null 2>&1 || true) &
  done
  wait
  if [ "$rc" -eq 0 ]; then
    rm -rf "$WORK_DIR"
    echo "$TEST_NAME: $CHECKS passed, 0 failed"
  else
    echo "$TEST_NAME: work files (worker logs, scans, DLQ dumps) kept in $WORK_DIR" >&2
  fi
  exit "$rc"
}
trap _run_cleanups EXIT
on_exit() { _cleanups+=("$1"); }

source "$E2E_LIB/checks.sh"

# ---------------------------------------------------------------- resources

# Names no other test (or earlier run) uses; lower case for S3.
_suffix="$(echo "$TEST_NAME" | tr '_' '-')-$$-$RANDOM"
BUCKET="e2e-$_suffix"
TABLE="e2e-$_suffix-orders"
LEDGER="e2e-$_suffix-ledger"
NQUEUE="e2e-$_suffix-notifications"
PQUEUE="e2e-$_suffix-poison"
DLQ="e2e-$_suffix-dlq"
OFFLOAD_BUCKET="$BUCKET-dlq-offload"  # salesflow's default: <bucket>-dlq-offload

s3() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }
ddb() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" dynamodb "$@"; }
# SQS over the JSON protocol; prints the response body.
sqs() { node "$LOCALAWS_DIR/sqs-json.js" --endpoint "$AWS_ENDPOINT_URL_SQS" "$@"; }
queue_url() { echo "$AWS_ENDPOINT_URL_SQS/000000000000/$1"; }

admin() { # METHOD PATH [JSON]
  if [ $# -ge 3 ]; then
    curl -sS --fail-with-body -X "$1" -H 'content-type: application/json' \
      --data-binary "$3" "$SALESFLOW_LOCALAWS_ADMIN$2"
  else
    curl -sS --fail-with-body -X "$1" "$SALESFLOW_LOCALAWS_ADMIN$2"
  fi
}

# Adds fault rules (appended, so parallel tests keep theirs; always scope them
# with "target"), removes them when the test ends, prints the new ids.
# Seeded with FAULT_SEED (lib/fault_seed.sh).
source "$(dirname "${BASH_SOURCE[0]}")/../../localaws/lib/fault_seed.sh"
add_faults() {
  local ids id body
  body=$(seeded_fault_body "$1")
  ids=$(admin POST /faults "$body" | jq -r '.rules[].id') || fail "adding fault rules $1"
  for id in $ids; do on_exit "admin DELETE /faults/$id"; done
  echo "$ids"
}
fault_fired() { admin GET "/faults/$1" | jq -r .fired; }
remove_fault() { admin DELETE "/faults/$1" >/dev/null; }

# salesflow with this test's resources; global options go before the command.
SF_RESOURCES=(--bucket "$BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ")
sf() { "$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" "$@"; }

# `salesflow init` with extra init options; everything it makes is removed at exit.
sf_init() {
  on_exit "s3 s3 rb --force s3://$BUCKET"
  on_exit "s3 s3 rb --force s3://$OFFLOAD_BUCKET"
  on_exit "ddb delete-table --table-name $TABLE"
  on_exit "ddb delete-table --table-name $LEDGER"
  on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$(queue_url "$NQUEUE")\"}'"
  on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$(queue_url "$PQUEUE")\"}'"
  on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$(queue_url "$DLQ")\"}'"
  sf init "$@" >"$WORK_DIR/init.out" 2>&1 || {
    cat "$WORK_DIR/init.out" >&2
    fail "salesflow init $*"
  }
}

upload() { # FILE KEY
  s3 s3 cp --only-show-errors "$1" "s3://$BUCKET/$2" || fail "uploading $1 to $2"
}
# Uploads every file under DIR with its relative path as the key (one CLI run).
upload_tree() { # DIR
  s3 s3 cp --only-show-errors --recursive "$1" "s3://$BUCKET/" || fail "uploading $1"
}

# ---------------------------------------------------------------- processes

# Starts `salesflow worker ARGS...` in the background, its JSON log (stderr)
# and stdout to $WORK_DIR/NAME.log; sets WORKER_PID. Killed at exit if alive.
start_worker() { # NAME ARGS...
  local name=$1
  shift
  # The binary itself in the background (not a shell function), so $! is the
  # worker's own pid and signals reach it.
  "$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" worker "$@" >"$WORK_DIR/$name.log" 2>&1 &
  WORKER_PID=$!
  _started_pids+=("$WORKER_PID")
}

# Waits up to TIMEOUT seconds for PID to exit; sets EXIT_STATUS. Fails on timeout.
wait_exit() { # PID TIMEOUT WHAT
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -9 "$pid" 2>/dev/null || true
      fail "$3 did not exit within $2 s"
    fi
    sleep 0.2
  done
  EXIT_STATUS=0
  wait "$pid" || EXIT_STATUS=$?
}

# Runs CMD until it succeeds, at most TIMEOUT seconds. Fails on timeout.
wait_for() { # WHAT TIMEOUT CMD...
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then fail "timed out after waiting for $what"; fi
    sleep 0.3
  done
}

# ---------------------------------------------------------------- reading back

# The whole table (only source and record index) as one JSON document.
scan_table() { # OUT
  ddb scan --table-name "$TABLE" --projection-expression "#s, #i" \
    --expression-attribute-names '{"#s":"_source","#i":"_record_index"}' \
    --output json >"$1" || fail "scanning $TABLE"
}

# Reads every message of queue NAME into OUT (JSON Lines of full messages)
# over the SQS JSON protocol, without salesflow; see lib/drain-queue.mjs.
drain_queue() { # NAME OUT [MAX_RECEIVES]
  node "$E2E_LIB/drain-queue.mjs" --endpoint "$AWS_ENDPOINT_URL_SQS" --queue "$1" \
    --max-receives "${3:-5000}" >"$2" || fail "draining queue $1"
}

# Messages in queue NAME: visible + in flight + delayed.
queue_depth() { # NAME
  sqs GetQueueAttributes "{\"QueueUrl\":\"$(queue_url "$1")\",\"AttributeNames\":[\"All\"]}" |
    jq -r '.Attributes | ((.ApproximateNumberOfMessages // "0") | tonumber) + ((.ApproximateNumberOfMessagesNotVisible // "0") | tonumber) + ((.ApproximateNumberOfMessagesDelayed // "0") | tonumber)'
}

# One attribute of the ledger entry of KEY (with its eTag), or "" when absent.
ledger_attribute() { # KEY ETAG ATTRIBUTE
  local id="s3://$BUCKET/$1#e=$2"
  ddb get-item --table-name "$LEDGER" --consistent-read --output json \
    --key "$(jq -cn --arg id "$id" '{object_id: {S: $id}}')" |
    jq -r --arg a "$3" '.Item[$a] | if . == null then "" else (.S // .N) end'
}

etag_of() { # KEY -> bare eTag
  s3 s3api head-object --bucket "$BUCKET" --key "$1" --output json | jq -r '.ETag | gsub("\""; "")'
}

# ---------------------------------------------------------------- accounting

# check_accounting (lib/checks.sh) reads with scan_table and drain_queue above.

# "object finished" / "object skipped" lines of a worker log, as JSON Lines.
log_objects() { # LOG [MSG]
  grep -a '^{' "$1" | jq -c --arg m "${2:-object finished}" 'select(.msg == $m)' 2>/dev/null || true
}

# Writes a generated file (lib/gen.py options) and records its counts under
# KEY in $WORK_DIR/expected.json.
generate() { # FILE KEY COUNT [gen.py options...]
  local file=$1 key=$2 counts
  shift 2
  counts=$(python3 "$E2E_LIB/gen.py" "$file" "$@") || fail "generating $file"
  [ -f "$WORK_DIR/expected.json" ] || echo '{}' >"$WORK_DIR/expected.json"
  jq --arg k "$key" --argjson c "$counts" '.[$k] = $c' "$WORK_DIR/expected.json" >"$WORK_DIR/e.tmp"
  mv "$WORK_DIR/e.tmp" "$WORK_DIR/expected.json"
}
