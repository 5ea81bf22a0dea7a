# Shared part of the moto tests: salesflow against moto_server, a second AWS
# implementation written independently of the local stack, in its IAM mode
# (every SigV4 signature verified, every call checked against the caller's
# policies). Starts its own moto_server on a free loopback port (killed at
# exit), creates an admin user (for `salesflow init`, the uploads and the
# checks) and a least-privilege worker user (for `salesflow worker` and
# `process`). Sourced; expects SALESFLOW_BINARY and SALESFLOW_SOURCE_DIR.
set -euo pipefail

: "${SALESFLOW_BINARY:?path of the salesflow binary}"
MOTO_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SALESFLOW_SOURCE_DIR=${SALESFLOW_SOURCE_DIR:-$(cd "$MOTO_LIB/../../.." && pwd)}
E2E_LIB="$SALESFLOW_SOURCE_DIR/tests/e2e/lib"
TEST_NAME=moto-$(basename "$0" .sh)
WORK_DIR=$(mktemp -d "/tmp/${TEST_NAME}.XXXXXX")
CHECKS=0
_pids=()

_finish() {
  local rc=$? pid
  for pid in "${_pids[@]}"; do kill -9 "$pid" >/dev/null 2>&1 || true; done
  if [ "$rc" -eq 0 ]; then
    rm -rf "$WORK_DIR"
    echo "$TEST_NAME: $CHECKS passed, 0 failed"
  else
    echo "$TEST_NAME: logs (moto.log, worker logs, scans, DLQ dumps) kept in $WORK_DIR" >&2
  fi
  exit "$rc"
}
trap _finish EXIT

source "$E2E_LIB/checks.sh"

# ---------------------------------------------------------------- moto

command -v moto_server >/dev/null ||
  fail "moto_server is not on PATH: these tests need moto 5 with its server extra (pip package moto[server]) and boto3"
python3 -c 'import moto, boto3' 2>/dev/null ||
  fail "python3 cannot import moto and boto3: these tests need the pip packages moto[server] and boto3"

MOTO_ACCOUNT=123456789012
MOTO_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO=http://127.0.0.1:$MOTO_PORT
# The first SETUP_ACTIONS calls (the users and their keys) run before IAM is
# enforced; every call after them is authenticated and authorized. A test that
# sets MOTO_IAM=0 before sourcing runs moto without authentication (for what
# moto's IAM mode cannot serve; see tools/localaws/README.md).
MOTO_IAM=${MOTO_IAM:-1}
auth_env=()
if [ "$MOTO_IAM" = 1 ]; then
  auth_env=("INITIAL_NO_AUTH_ACTION_COUNT=$(python3 -c "import sys; sys.path.insert(0, '$MOTO_LIB'); import moto_client; print(moto_client.SETUP_ACTIONS)")")
fi
env "${auth_env[@]}" MOTO_ACCOUNT_ID=$MOTO_ACCOUNT \
  moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK_DIR/moto.log" 2>&1 &
_pids+=("$!")
disown "$!"  # killed at exit; no "Killed" notice from bash
for _ in $(seq 1 100); do
  # A bare TCP connect: an HTTP probe would count as one of the setup actions.
  if (exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null; then break; fi
  kill -0 "${_pids[0]}" 2>/dev/null || { cat "$WORK_DIR/moto.log" >&2; fail "moto_server exited"; }
  sleep 0.2
done
(exec 3<>"/dev/tcp/127.0.0.1/$MOTO_PORT") 2>/dev/null || fail "moto_server did not listen within 20 s"

export AWS_ENDPOINT_URL=$MOTO AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL_DYNAMODB AWS_SESSION_TOKEN AWS_PROFILE

_suffix="$(basename "$0" .sh | tr '_' '-')-$$"
BUCKET="moto-$_suffix"
TABLE="moto-$_suffix-orders"
LEDGER="moto-$_suffix-ledger"
NQUEUE="moto-$_suffix-notifications"
PQUEUE="moto-$_suffix-poison"
DLQ="moto-$_suffix-dlq"
OFFLOAD=dlq-offload
jq -n --arg b "$BUCKET" --arg t "$TABLE" --arg l "$LEDGER" --arg n "$NQUEUE" --arg d "$DLQ" \
  --arg o "$OFFLOAD" \
  '{bucket: $b, table: $t, ledger: $l, notification_queue: $n, dlq: $d, offload_prefix: $o}' \
  >"$WORK_DIR/resources.json"
SF_RESOURCES=(--bucket "$BUCKET" --table "$TABLE" --ledger-table "$LEDGER"
  --notification-queue "$NQUEUE" --poison-queue "$PQUEUE" --dlq "$DLQ" --offload-prefix "$OFFLOAD")

python3 "$MOTO_LIB/moto_client.py" users "$MOTO" "$MOTO_ACCOUNT" "$WORK_DIR/resources.json" \
  "$WORK_DIR/keys.json" || fail "creating the IAM users in moto"
as_admin() {
  AWS_ACCESS_KEY_ID=$(jq -r .admin.id "$WORK_DIR/keys.json") \
    AWS_SECRET_ACCESS_KEY=$(jq -r .admin.secret "$WORK_DIR/keys.json") "$@"
}
as_worker() {
  AWS_ACCESS_KEY_ID=$(jq -r .worker.id "$WORK_DIR/keys.json") \
    AWS_SECRET_ACCESS_KEY=$(jq -r .worker.secret "$WORK_DIR/keys.json") "$@"
}
aws_client() { as_admin python3 "$MOTO_LIB/moto_client.py" "$1" "$MOTO" "${@:2}"; }

# `salesflow init` as the admin (a deployment step, not the worker's right).
sf_init() {
  as_admin "$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" init "$@" >"$WORK_DIR/init.out" 2>&1 || {
    cat "$WORK_DIR/init.out" >&2
    fail "salesflow init $* (as the admin user)"
  }
  ok "salesflow init as the admin user"
  DENIALS_EXPECTED=0
  [ "$MOTO_IAM" = 1 ] || return 0
  aws_client expect-denied "$WORK_DIR/resources.json" "$WORK_DIR/keys.json" >"$WORK_DIR/denied.out" ||
    { cat "$WORK_DIR/denied.out"; fail "moto does not enforce signatures and policies"; }
  cat "$WORK_DIR/denied.out"
  CHECKS=$((CHECKS + $(grep -c '^ok:' "$WORK_DIR/denied.out")))
  # The refusals above are the only 403s allowed in moto's log.
  DENIALS_EXPECTED=$(grep -c '^ok:' "$WORK_DIR/denied.out")
}

# salesflow with the least-privilege worker's keys; log to $WORK_DIR/NAME.log.
sf_worker() { # NAME COMMAND ARGS...
  local name=$1
  shift
  as_worker "$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" "$@" >"$WORK_DIR/$name.log" 2>&1
}

# No signature or access error anywhere: not in salesflow's logs, and moto
# answered no 403 beyond the deliberate refusals of sf_init.
expect_no_auth_errors() { # LOG...
  local hits
  hits=$(grep -a -h -E -i 'SignatureDoesNotMatch|AccessDenied|InvalidClientTokenId|UnrecognizedClient|InvalidAccessKeyId|not authorized|MissingAuthenticationToken|IncompleteSignature' "$@" || true)
  [ -z "$hits" ] || fail "signature or access errors in salesflow's logs: $(head -c 2000 <<<"$hits")"
  ok "no signature or access error in salesflow's logs"
  expect_eq "403 answers in moto's log (only the deliberate refusals)" "$DENIALS_EXPECTED" \
    "$(grep -c -E '" 403 ' "$WORK_DIR/moto.log" || true)"
}

# Records COUNTS ({records, valid, rejected}) of KEY in $WORK_DIR/expected.json.
expect_counts() { # KEY COUNTS
  [ -f "$WORK_DIR/expected.json" ] || echo '{}' >"$WORK_DIR/expected.json"
  jq --arg k "$1" --argjson c "$2" '.[$k] = $c' "$WORK_DIR/expected.json" >"$WORK_DIR/e.tmp"
  mv "$WORK_DIR/e.tmp" "$WORK_DIR/expected.json"
}

# The readers check_accounting (tests/e2e/lib/checks.sh) uses, as the admin.
scan_table() { aws_client scan "$TABLE" "$1" || fail "scanning $TABLE"; }
drain_queue() { aws_client drain "$1" "$2" || fail "draining $1"; }

log_objects() { # LOG
  grep -a '^{' "$1" | jq -c 'select(.msg == "object finished")' 2>/dev/null || true
}
