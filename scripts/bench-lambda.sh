#!/usr/bin/env bash
# The same object through `salesflow worker` and through `salesflow lambda` in
# the local Lambda (an SQS event source mapping, batch size 1), on a fresh
# local AWS stack each:
#   scripts/bench-lambda.sh [BUILD_DIR] [RECORDS]
# Prints per shape: records/s (from the "object finished" line; the sum over
# invocations when the function needed several), the object's wall time, peak
# RSS (the worker's from /usr/bin/time, the function's "Max Memory Used" of its
# REPORT lines, the largest), the function's cold start ("Init Duration": from
# the process start to its first GET /next) and invocations. bench/README.md
# records the results.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
records=${2:-100000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${BENCH_PORT_BASE:-47860}
timeout_s=${BENCH_LAMBDA_TIMEOUT:-900}
work=$(mktemp -d)
stop_all() {
  "$here/tools/localaws/stop" --pid-file "$work/lambda.pid" >/dev/null 2>&1 || true
  "$here/tools/localaws/stop" --pid-file "$work/localaws.pid" >/dev/null 2>&1 || true
}
trap 'stop_all; rm -rf "$work"' EXIT

export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$base AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$base
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$((base + 1))
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

python3 "$here/scripts/bench-object.py" "$records" >"$work/large.jsonl"
echo "object: $records records, $(stat -c %s "$work/large.jsonl") bytes"

fresh_stack() {
  stop_all
  "$here/tools/localaws/start" --s3-sqs-port "$base" --dynamodb-port $((base + 1)) \
    --admin-port $((base + 2)) --pid-file "$work/localaws.pid" --log-file "$work/localaws.log" >/dev/null
  "$build/salesflow" init >/dev/null
}
upload() {
  /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp --only-show-errors "$work/large.jsonl" \
    s3://salesflow-incoming/bench/large.jsonl
}

echo "== worker"
fresh_stack
upload
/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$build/salesflow" worker --exit-when-idle 2 2>"$work/worker.log"
read -r _ user sys rss_kb <"$work/time"
python3 - "$work/worker.log" "$records" "$user" "$sys" "$rss_kb" <<'PY'
import json, sys
log, records = sys.argv[1], int(sys.argv[2])
user, sys_, rss_kb = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
line = next(json.loads(l) for l in open(log) if '"object finished"' in l)
assert line["records"] == records and line["written"] == records, line
print(f"records/s: {line['records_per_s']:.0f}; object duration {line['duration_ms'] / 1000:.1f} s")
print(f"peak RSS: {rss_kb / 1024:.0f} MiB; CPU {user + sys_:.2f} s = "
      f"{(user + sys_) / records * 1e6:.1f} us/record")
PY

echo "== lambda (local Lambda, timeout ${timeout_s} s, memory 1024 MB, batch size 1)"
fresh_stack
"$here/tools/localaws/lambda" --pid-file "$work/lambda.pid" --log-file "$work/lambda.log" \
  --port $((base + 3)) --function-name salesflow --timeout "$timeout_s" --memory 1024 --concurrency 1 \
  --task-root "$work" --function-log "$work/function.log" \
  --env "AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3" --env "AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS" \
  --env "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" --sqs-endpoint "$AWS_ENDPOINT_URL_SQS" \
  --queue salesflow-notifications --batch-size 1 --report-batch-item-failures \
  -- "$build/salesflow" lambda >/dev/null
upload
completed() { cut -f4- "$work/function.log" | grep -a '"object finished"' | grep -q '"outcome":"completed"'; }
until completed; do sleep 0.5; done
"$here/tools/localaws/stop" --pid-file "$work/lambda.pid" >/dev/null
python3 - "$work/function.log" "$records" <<'PY'
import json, re, sys
log, records = sys.argv[1], int(sys.argv[2])
objects, reports = [], []
for row in open(log, encoding="utf-8", errors="replace"):
    text = row.rstrip("\n").split("\t", 3)[-1]
    if text.startswith("{") and '"object finished"' in text:
        objects.append(json.loads(text))
    elif text.startswith("REPORT"):
        reports.append(text)
final = objects[-1]
assert final["records"] == records and final["written"] == records, final
busy_s = sum(o["duration_ms"] for o in objects) / 1000
memory = max(int(re.search(r"Max Memory Used: (\d+) MB", r).group(1)) for r in reports)
inits = [float(m.group(1)) for r in reports if (m := re.search(r"Init Duration: ([0-9.]+) ms", r))]
print(f"records/s: {records / busy_s:.0f} over {len(objects)} object run(s); object duration {busy_s:.1f} s")
print(f"peak RSS (Max Memory Used): {memory} MB; invocations: {len(reports)}; "
      f"cold start (Init Duration): {', '.join(f'{i:.1f}' for i in inits)} ms")
PY
