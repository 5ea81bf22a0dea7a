#!/usr/bin/env bash
# The whole job on sample files against the local AWS stack:
#   bash scripts/demo.sh BUILD_DIR            (what `make demo` runs)
#   bash scripts/demo.sh BUILD_DIR --lambda   (what `make demo-lambda` runs)
# Starts the stack on ports DEMO_PORT_BASE..+2 (default 4566), creates the
# resources with `salesflow init`, uploads the sample files with the AWS CLI,
# and lets salesflow process them: `salesflow worker` until the queue is idle,
# or with --lambda `salesflow lambda` in the local Lambda (port DEMO_PORT_BASE+3)
# fed by an SQS event source mapping on the notification queue, until every
# file is settled. Then it shows what landed in the table and the DLQ, and
# checks the totals against the counts the sample generator computed on its
# own. Last, the correction loop: `dlq export`, five records fixed with jq,
# `dlq replay`, and the counts before and after. Exit 0 when everything
# matches, 1 otherwise, 2 when something is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
mode=worker
case "${2:-}" in
  "") ;;
  --lambda) mode=lambda ;;
  *)
    echo "demo: unknown option '$2' (usage: demo.sh BUILD_DIR [--lambda])" >&2
    exit 2
    ;;
esac
salesflow="$build/salesflow"
[ -x "$salesflow" ] || {
  echo "demo: $salesflow not found; build first (make build)" >&2
  exit 2
}
for tool in node python3 jq /usr/bin/aws; do
  command -v "$tool" >/dev/null || {
    echo "demo: $tool not found; run scripts/bootstrap.sh" >&2
    exit 2
  }
done

port=${DEMO_PORT_BASE:-4566}
pid_file="$build/demo-localaws.pid"
lambda_pid_file="$build/demo-lambda.pid"
out="$build/demo"
[ "$mode" = worker ] || out="$build/demo-lambda"
rm -rf "$out"
mkdir -p "$out"
started=$(date +%s.%N)

stop_stack() {
  "$here/tools/localaws/stop" --pid-file "$lambda_pid_file" >/dev/null 2>&1 || true
  "$here/tools/localaws/stop" --pid-file "$pid_file" >/dev/null 2>&1 || true
}
trap stop_stack EXIT

echo "== local AWS stack"
"$here/tools/localaws/start" --s3-sqs-port "$port" --dynamodb-port $((port + 1)) \
  --admin-port $((port + 2)) --pid-file "$pid_file" --log-file "$out/localaws.log"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$((port + 1))"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL

bucket=salesflow-incoming
echo
echo "== salesflow init"
"$salesflow" init

if [ "$mode" = lambda ]; then
  echo
  echo "== local Lambda: salesflow lambda, fed by an SQS event source mapping on salesflow-notifications"
  # A timeout and concurrency like a small production function's; batch item
  # failures reported, as salesflow's answers need.
  "$here/tools/localaws/lambda" --pid-file "$lambda_pid_file" --log-file "$out/local-lambda.log" \
    --port $((port + 3)) --function-name salesflow --timeout 60 --memory 512 --concurrency 2 \
    --task-root "$out" --function-log "$out/function.log" \
    --env "AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3" --env "AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS" \
    --env "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" --sqs-endpoint "$AWS_ENDPOINT_URL_SQS" \
    --queue salesflow-notifications --batch-size 10 --batching-window 1 --report-batch-item-failures \
    -- "$salesflow" lambda
fi

echo
echo "== sample files"
python3 "$here/scripts/make-sample-data.py" "$out/data"
(cd "$out/data" && wc -c -- *.json *.jsonl *.gz)
echo
echo "== upload to s3://$bucket/incoming/ (aws s3 cp)"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 cp --recursive --only-show-errors \
  --exclude expected.json "$out/data" "s3://$bucket/incoming/"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3 ls "s3://$bucket/incoming/"

if [ "$mode" = worker ]; then
  echo
  echo "== salesflow worker --exit-when-idle 3   (JSON log: $out/worker.log)"
  run_started=$(date +%s.%N)
  "$salesflow" worker --exit-when-idle 3 2>"$out/worker.log"
  run_s=$(echo "$(date +%s.%N) - $run_started" | bc)
  echo "worker exited after ${run_s} s"
  log="$out/worker.log"
  run_what="of worker run time (including its 3 s idle wait)"
else
  echo
  echo "== the function at work   (its log: $out/function.log)"
  log="$out/function.log"
  # Done when every sample file has its "completed" object line; the files
  # were uploaded before, so the time counts from the upload's end.
  run_started=$(date +%s.%N)
  settled() { python3 "$here/scripts/demo-summary.py" --settled "$log" "$out/data/expected.json"; }
  for _ in $(seq 1 240); do
    ! settled || break
    sleep 0.5
  done
  run_s=$(echo "$(date +%s.%N) - $run_started" | bc)
  settled || echo "demo: not every file settled within 120 s (see $log)" >&2
  status=$(curl -sS "http://127.0.0.1:$((port + 3))/status" | jq -c '.functions.salesflow')
  echo "settled after ${run_s} s: $(jq -r '"\(.invocations) invocations, \(.cold_starts) cold starts, \(.errors) errors, \(.timeouts) timeouts, \(.batch_item_failures) batch item failures"' <<<"$status")"
  "$here/tools/localaws/stop" --pid-file "$lambda_pid_file" >/dev/null
  run_what="from the upload's end to the last file settled"
fi

echo
echo "== what salesflow did (from its \"object finished\" log lines)"
python3 "$here/scripts/demo-summary.py" "$log" "$out/data/expected.json" "$run_s" "$run_what" \
  >"$out/summary.txt" || summary_status=$?
summary_status=${summary_status:-0}
cat "$out/summary.txt"

echo
echo "== three items from the table (aws dynamodb scan --max-items 3)"
/usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" dynamodb scan --table-name salesflow-orders \
  --max-items 3 --output json | jq -c '.Items[]'

echo
echo "== three DLQ envelopes (salesflow dlq peek 3)"
"$salesflow" dlq peek 3

echo
echo "== salesflow dlq stats"
"$salesflow" dlq stats

correction_ok=1
# The correction loop is the same commands whichever way the files were
# processed: `make demo` shows it, `make demo-lambda` does not repeat it.
if [ "$mode" = worker ]; then
  echo
  echo "== correcting rejects: salesflow dlq export, a fix with jq, salesflow dlq replay (docs/correction.md)"
  table_count() {
    /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" dynamodb scan --table-name salesflow-orders \
      --select COUNT --output json | jq .Count
  }
  dlq_envelopes() { "$salesflow" dlq stats --json | jq .envelopes; }
  table_before=$(table_count)
  dlq_before=$(dlq_envelopes)
  "$salesflow" dlq export -o "$out/dlq-export.jsonl"
  # Five records that lack their contact-info altogether get one.
  jq -cn 'limit(5; inputs
           | select(.value != null and .value["contact-info"] == null
                    and any(.reasons[]; .code == "missing" and .path == "/contact-info"))
           | .value["contact-info"] = {"name": "Corrected", "email": "corrected@example.com"})' \
    "$out/dlq-export.jsonl" >"$out/dlq-fixes.jsonl"
  fixes=$(grep -c . "$out/dlq-fixes.jsonl" || true)
  echo "jq fixed $fixes of $(grep -c . "$out/dlq-export.jsonl") exported envelopes ($out/dlq-fixes.jsonl)"
  replay_status=0
  "$salesflow" dlq replay "$out/dlq-fixes.jsonl" || replay_status=$?
  table_after=$(table_count)
  dlq_after=$(dlq_envelopes)
  echo "table: $table_before -> $table_after items; DLQ: $dlq_before -> $dlq_after envelopes"
  correction_ok=1
  if [ "$replay_status" -ne 0 ] || [ "$fixes" -eq 0 ] || [ "$table_after" -ne $((table_before + fixes)) ] ||
    [ "$dlq_after" -ne $((dlq_before - fixes)) ]; then
    correction_ok=0
    echo "correction: MISMATCH (replay exit $replay_status; expected +$fixes items and -$fixes envelopes)"
  else
    echo "correction: OK ($fixes records replayed into the table, their envelopes gone from the DLQ)"
  fi
fi

elapsed=$(echo "$(date +%s.%N) - $started" | bc)
echo
echo "demo finished in ${elapsed} s; salesflow's log, sample data and stack log in $out"
if [ "$summary_status" -ne 0 ]; then
  echo "demo: the totals do not match expected.json (MISMATCH above)" >&2
  exit 1
fi
if [ "$correction_ok" -ne 1 ]; then
  echo "demo: the correction did not settle as expected (MISMATCH above)" >&2
  exit 1
fi
