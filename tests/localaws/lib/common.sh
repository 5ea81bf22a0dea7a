# Shared helpers of the local AWS stack's script tests. Sourced; expects the
# environment the ctest fixture sets (AWS_ENDPOINT_URL_*, SALESFLOW_LOCALAWS_ADMIN,
# AWS_CLI, fake credentials). Every helper fails the test on error.
set -euo pipefail

: "${AWS_ENDPOINT_URL_S3:?needs the local AWS stack fixture}"
: "${AWS_ENDPOINT_URL_SQS:?}" "${AWS_ENDPOINT_URL_DYNAMODB:?}" "${SALESFLOW_LOCALAWS_ADMIN:?}"
AWS_CLI=${AWS_CLI:-/usr/bin/aws}
LOCALAWS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../tools/localaws" && pwd)
TEST_NAME=$(basename "$0" .sh)
WORK_DIR=$(mktemp -d "/tmp/localaws-${TEST_NAME}.XXXXXX")
CHECKS=0
_cleanups=()

_run_cleanups() {
  local rc=$?
  local i
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_cleanups[i]}" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK_DIR"
  if [ "$rc" -eq 0 ]; then
    echo "$TEST_NAME: $CHECKS passed, 0 failed"
  fi
  exit "$rc"
}
trap _run_cleanups EXIT
on_exit() { _cleanups+=("$1"); }

fail() {
  echo "FAIL ($TEST_NAME): $*" >&2
  echo "$TEST_NAME: $CHECKS passed, 1 failed"
  exit 1
}
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }

expect_eq() { # what expected actual
  if [ "$2" != "$3" ]; then fail "$1: expected [$2], got [$3]"; fi
  ok "$1"
}
expect_match() { # what regex actual
  if ! [[ $3 =~ $2 ]]; then fail "$1: [$3] does not match /$2/"; fi
  ok "$1"
}

# A name no other test (or earlier run) uses: S3/SQS/DynamoDB-safe characters.
unique_name() { echo "$1-$$-$RANDOM$RANDOM"; }

s3() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }
ddb() { "$AWS_CLI" --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" dynamodb "$@"; }
# SQS over the JSON protocol; prints the response body.
sqs() { node "$LOCALAWS_DIR/sqs-json.js" --endpoint "$AWS_ENDPOINT_URL_SQS" "$@"; }

admin() { # METHOD PATH [JSON]
  if [ $# -ge 3 ]; then
    curl -sS --fail-with-body -X "$1" -H 'content-type: application/json' --data-binary "$3" "$SALESFLOW_LOCALAWS_ADMIN$2"
  else
    curl -sS --fail-with-body -X "$1" "$SALESFLOW_LOCALAWS_ADMIN$2"
  fi
}

# Adds fault rules (appended, so parallel tests keep theirs), removes them when
# the test ends, and prints the new rule ids one per line.
# Seeded with FAULT_SEED (lib/fault_seed.sh).
source "$(dirname "${BASH_SOURCE[0]}")/fault_seed.sh"
add_faults() {
  local ids id body
  body=$(seeded_fault_body "$1")
  ids=$(admin POST /faults "$body" | jq -r '.rules[].id') || fail "adding fault rules $1"
  for id in $ids; do on_exit "admin DELETE /faults/$id"; done
  echo "$ids"
}
fault_fired() { admin GET "/faults/$1" | jq -r .fired; }

create_queue() { # NAME -> prints queue URL
  sqs CreateQueue "{\"QueueName\":\"$1\"}" | jq -r .QueueUrl
  on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$AWS_ENDPOINT_URL_SQS/000000000000/$1\"}'"
}
create_bucket() {
  s3 s3 mb "s3://$1" >/dev/null
  on_exit "s3 s3 rb --force s3://$1"
}
create_table() { # NAME
  ddb create-table --table-name "$1" --attribute-definitions AttributeName=pk,AttributeType=S \
    --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST >/dev/null
  on_exit "ddb delete-table --table-name $1"
}

# Receives every message now on the queue (deleting them) and prints one body
# per line: a JSON body as compact JSON, any other body as a JSON string.
drain_queue() { # QUEUE_URL
  local out n
  while :; do
    out=$(sqs ReceiveMessage "{\"QueueUrl\":\"$1\",\"MaxNumberOfMessages\":10,\"WaitTimeSeconds\":0}")
    n=$(jq '.Messages // [] | length' <<<"$out")
    [ "$n" -gt 0 ] || break
    jq -c '.Messages[].Body | (. as $body | try fromjson catch $body)' <<<"$out"
    jq -r '.Messages[].ReceiptHandle' <<<"$out" | while read -r handle; do
      sqs DeleteMessage "{\"QueueUrl\":\"$1\",\"ReceiptHandle\":\"$handle\"}" >/dev/null
    done
  done
}
