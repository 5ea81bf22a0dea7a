#!/usr/bin/env bash
# End-to-end throughput on the local AWS stack, beside the stack's own ceiling.
#   scripts/bench-e2e.sh [BUILD_DIR] [RECORDS]
# Prints: the ceiling (plain BatchWriteItem loop, items/s), the worker's
# records/s for one large JSON Lines object (from its "object finished" line),
# and the worker's CPU time per record (user + sys over the whole run).
set -euo pipefail
build=${1:-build}
records=${2:-100000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${BENCH_PORT_BASE:-47860}
work=$(mktemp -d)
trap '"$here/tools/localaws/stop" --pid-file "$work/localaws.pid" >/dev/null; rm -rf "$work"' EXIT

"$here/tools/localaws/start" --s3-sqs-port "$base" --dynamodb-port $((base + 1)) \
  --admin-port $((base + 2)) --pid-file "$work/localaws.pid" --log-file "$work/localaws.log" >/dev/null
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$base AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$base
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$((base + 1))
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

echo "== ceiling: BatchWriteItem loop against the same dynalite"
"$build/bench/bench_dynamodb_ceiling" --benchmark_min_time=10 2>/dev/null | grep -E "^BM_|^---|Benchmark"

echo "== worker: one JSON Lines object of $records records (~1 KB each, all valid)"
python3 "$here/scripts/bench-object.py" "$records" >"$work/large.jsonl"
"$build/salesflow" init >/dev/null
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp "$work/large.jsonl" s3://salesflow-incoming/bench/large.jsonl >/dev/null
/usr/bin/time -f "%e %U %S" -o "$work/time" "$build/salesflow" worker --exit-when-idle 2 2>"$work/worker.log"
read -r elapsed user sys <"$work/time"
python3 - "$work/worker.log" "$records" "$user" "$sys" <<'PY'
import json, sys
log, records, user, sys_ = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
line = next(json.loads(l) for l in open(log) if '"object finished"' in l)
assert line["records"] == records and line["written"] == records, line
cpu = user + sys_
print(f"records/s (object duration): {line['records_per_s']:.0f}")
print(f"object duration: {line['duration_ms'] / 1000:.1f} s")
print(f"worker CPU: {cpu:.2f} s for {records} records = {cpu / records * 1e6:.1f} us/record; "
      f"{cpu / (line['duration_ms'] / 1000):.2f} cores while busy")
PY
