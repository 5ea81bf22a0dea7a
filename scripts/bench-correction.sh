#!/usr/bin/env bash
# The correction loop at scale, on a fresh local AWS stack:
#   scripts/bench-correction.sh [BUILD_DIR] [REJECTS]
# Ingests a file with REJECTS incomplete records (as many complete ones), then
# times `dlq export` of the whole DLQ, `dlq replay` of a correction for every
# envelope, and a second replay of the same file; counts the SQS, DynamoDB and
# S3 requests each made from the stack's operation log (by User-Agent), to
# show that one pass costs ~n/10 receives whatever the number of corrections.
# bench/README.md records the results.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rejects=${2:-10000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${BENCH_PORT_BASE:-47860}
work=$(mktemp -d)
trap '"$here/tools/localaws/stop" --pid-file "$work/localaws.pid" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$base AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$base
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$((base + 1))
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
"$here/tools/localaws/start" --s3-sqs-port "$base" --dynamodb-port $((base + 1)) \
  --admin-port $((base + 2)) --pid-file "$work/localaws.pid" --log-file "$work/localaws.log" \
  --operation-log "$work/ops.jsonl" >/dev/null
sf() { "$build/salesflow" "$@"; }
sf init >/dev/null
python3 "$here/tests/e2e/lib/gen.py" "$work/orders.jsonl" $((2 * rejects)) --reject-every 2 --prefix BENCH >/dev/null
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp --only-show-errors "$work/orders.jsonl" \
  s3://salesflow-incoming/bench/orders.jsonl
sf process s3://salesflow-incoming/bench/orders.jsonl 2>/dev/null

# Seconds a command took, and the requests the stack served meanwhile.
measure() { # NAME CMD...
  local name=$1 before after start end
  shift
  before=$(wc -l <"$work/ops.jsonl")
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  after=$(wc -l <"$work/ops.jsonl")
  printf '%-14s %6.2f s  ' "$name" "$(echo "$end - $start" | bc)"
  sed -n "$((before + 1)),${after}p" "$work/ops.jsonl" |
    jq -rs '[.[] | select(.agent | startswith("salesflow/")) | .operation] | group_by(.) |
            map("\(.[0]) \(length)") | join(", ")'
}
echo "DLQ: $rejects envelopes; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
measure export sf dlq export -o "$work/export.jsonl" 2>/dev/null
jq -c '.value["contact-info"] = {"email": "fixed@example.com"}' "$work/export.jsonl" >"$work/fixes.jsonl"
measure replay sf dlq replay "$work/fixes.jsonl" >"$work/replay.out"
tail -1 "$work/replay.out"
measure "replay again" sf dlq replay "$work/fixes.jsonl" >"$work/again.out"
tail -1 "$work/again.out"
