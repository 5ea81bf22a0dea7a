#!/usr/bin/env bash
# Chaos run (`make chaos`): 2-4 salesflow workers on one notification queue,
# talking to the local AWS stack through tools/faultproxy (resets mid-response,
# stalls, slow bodies, latency), killed with kill -9 or SIGTERM at random
# moments and restarted, while files arrive in waves. Then the last workers
# drain the queue and scripts/chaos-check.py compares the table and the DLQ
# with the uploaded files record by record. Figures: docs/reliability.md.
#
#   scripts/chaos.sh [BUILD_DIR]
# Environment (defaults): CHAOS_SECONDS (180) of kills, then at most
# CHAOS_DRAIN_SECONDS (600) to finish; CHAOS_WORKERS (3, 2..4); CHAOS_SEED
# (random, printed; drives the data, the kill plan and the proxy);
# CHAOS_RECORDS (120000) records in CHAOS_FILES (16) files; CHAOS_PORT_BASE
# (46600: stack +0..+2, proxy +3, +4); CHAOS_FIFO_DLQ=1 for a FIFO DLQ (init
# --fifo-dlq, a .fifo name). Exit status 0 only when no record is lost and
# nothing is wrong or extra; the work directory is printed and kept.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
binary="$build/salesflow"
[ -x "$binary" ] || { echo "chaos: no salesflow binary in $build (build first)" >&2; exit 2; }
seconds=${CHAOS_SECONDS:-180}
drain_seconds=${CHAOS_DRAIN_SECONDS:-600}
workers=${CHAOS_WORKERS:-3}
seed=${CHAOS_SEED:-$(((RANDOM << 15) | RANDOM))}
total_records=${CHAOS_RECORDS:-120000}
files=${CHAOS_FILES:-16}
base=${CHAOS_PORT_BASE:-46600}
fifo=${CHAOS_FIFO_DLQ:-0}
if [ "$workers" -lt 2 ] || [ "$workers" -gt 4 ]; then
  echo "chaos: CHAOS_WORKERS must be 2..4, got $workers" >&2
  exit 2
fi
RANDOM=$seed
work=$(mktemp -d /tmp/chaos.XXXXXX)
echo "chaos: seed $seed, $workers workers, $seconds s of kills, $total_records records in $files files, work dir $work"

aws_cli=/usr/bin/aws
stack_s3=http://127.0.0.1:$base
stack_ddb=http://127.0.0.1:$((base + 1))
proxy_s3=http://127.0.0.1:$((base + 3))
proxy_ddb=http://127.0.0.1:$((base + 4))
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

pids=()
proxy_pid=
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  "$here/tools/localaws/stop" --pid-file "$work/localaws.pid" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$here/tools/localaws/start" --s3-sqs-port "$base" --dynamodb-port $((base + 1)) \
  --admin-port $((base + 2)) --pid-file "$work/localaws.pid" --log-file "$work/localaws.log" >/dev/null
node "$here/tools/faultproxy/faultproxy.mjs" --route $((base + 3)):"$base" \
  --route $((base + 4)):$((base + 1)) --seed "$seed" --stats-file "$work/proxy-stats.json" \
  >"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 50); do grep -q READY "$work/proxy.log" && break; sleep 0.2; done
grep READY "$work/proxy.log" || { cat "$work/proxy.log" >&2; exit 1; }

name=chaos-$$
dlq=$name-dlq
init_extra=()
if [ "$fifo" = 1 ]; then
  dlq=$name-dlq.fifo
  init_extra=(--fifo-dlq)
fi
resources=(--bucket "$name" --table "$name-orders" --ledger-table "$name-ledger"
  --notification-queue "$name-notifications" --poison-queue "$name-poison" --dlq "$dlq")
direct() { AWS_ENDPOINT_URL_S3=$stack_s3 AWS_ENDPOINT_URL_SQS=$stack_s3 AWS_ENDPOINT_URL_DYNAMODB=$stack_ddb "$@"; }
# Every kill costs each message in flight one receive: the redrive limit is
# set high so that a file under repeated kills is not parked in the poison
# queue (the poison queue is checked empty at the end all the same).
direct "$binary" "${resources[@]}" init --visibility-timeout 10 --max-receive-count 100 \
  "${init_extra[@]}" >"$work/init.out" 2>&1 || { cat "$work/init.out" >&2; exit 1; }

# The data set: files of different sizes, formats and reject rates, in waves.
waves=4
echo '{}' >"$work/manifest.json"
per_file=$((total_records / files))
for i in $(seq 1 "$files"); do
  count=$((per_file / 2 + RANDOM % (per_file + 1)))
  formats=(jsonl jsonl array wrapped)
  format=${formats[RANDOM % 4]}
  gz=$((RANDOM % 3 == 0))
  ext=$([ "$format" = jsonl ] && echo jsonl || echo json)$([ "$gz" = 1 ] && echo .gz || true)
  wave=$(((i - 1) % waves))
  key="wave-$wave/part $i.$ext"
  mkdir -p "$work/data/$wave/wave-$wave"
  python3 "$here/tests/e2e/lib/gen.py" "$work/data/$wave/$key" "$count" \
    --reject-every $((5 + RANDOM % 30)) --prefix "C$i" --format "$format" \
    $([ "$gz" = 1 ] && echo --gzip) >/dev/null
  jq --arg k "$key" --arg f "$work/data/$wave/$key" --arg fmt "$format" --argjson gz "$gz" \
    '.[$k] = {file: $f, format: $fmt, gzip: ($gz == 1)}' "$work/manifest.json" >"$work/m.tmp"
  mv "$work/m.tmp" "$work/manifest.json"
done
(
  for wave in $(seq 0 $((waves - 1))); do
    direct "$aws_cli" --endpoint-url "$stack_s3" s3 cp --only-show-errors --recursive \
      "$work/data/$wave" "s3://$name/"
    sleep $((seconds / (waves + 1)))
  done
) >"$work/upload.log" 2>&1 &
uploader=$!
pids+=("$uploader")

# ------------------------------------------------------------ the kills
worker_args=(worker --checkpoint-every 2000 --lease 10 --visibility-timeout 10 --grace-period 10
  --objects 2)
declare -a slot_pid
started=0
start_worker() { # SLOT [extra worker options...]
  local slot=$1
  shift
  started=$((started + 1))
  AWS_ENDPOINT_URL_S3=$proxy_s3 AWS_ENDPOINT_URL_SQS=$proxy_s3 AWS_ENDPOINT_URL_DYNAMODB=$proxy_ddb \
    "$binary" "${resources[@]}" "${worker_args[@]}" "$@" >"$work/worker-$started.log" 2>&1 &
  slot_pid[slot]=$!
  pids+=("$!")
  echo "pid $! worker-$started.log" >>"$work/worker-pids.txt"
}
for slot in $(seq 0 $((workers - 1))); do start_worker "$slot"; done

kill9=0 sigterm=0 sigterm_clean=0 sigterm_unclean=0 died=0
deadline=$((SECONDS + seconds))
while [ "$SECONDS" -lt "$deadline" ]; do
  sleep "$((1 + RANDOM % 5)).$((RANDOM % 10))"
  for slot in $(seq 0 $((workers - 1))); do
    if ! kill -0 "${slot_pid[slot]}" 2>/dev/null; then
      status=0
      wait "${slot_pid[slot]}" || status=$?
      echo "chaos: worker pid ${slot_pid[slot]} exited on its own with status $status ($(grep "^pid ${slot_pid[slot]} " "$work/worker-pids.txt" | cut -d' ' -f3))"
      died=$((died + 1))
      start_worker "$slot"
    fi
  done
  slot=$((RANDOM % workers))
  pid=${slot_pid[slot]}
  if [ $((RANDOM % 2)) = 0 ]; then
    kill -9 "$pid"
    kill9=$((kill9 + 1))
    wait "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid"
    sigterm=$((sigterm + 1))
    # The grace period (10 s) plus a margin; a worker still there then is a failure.
    until_exit=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$until_exit" ]; do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    status=0
    wait "$pid" || status=$?
    if [ "$status" = 0 ]; then sigterm_clean=$((sigterm_clean + 1)); else
      sigterm_unclean=$((sigterm_unclean + 1))
      echo "chaos: worker pid $pid exited with status $status after SIGTERM ($(grep "^pid $pid " "$work/worker-pids.txt" | cut -d' ' -f3))"
    fi
  fi
  start_worker "$slot"
done
echo "chaos: $kill9 kill -9, $sigterm SIGTERM ($sigterm_unclean not exiting 0), $died exited on their own"

# ------------------------------------------------------------ the drain
wait "$uploader" || { cat "$work/upload.log" >&2; echo "chaos: upload failed" >&2; exit 1; }
for slot in $(seq 0 $((workers - 1))); do kill -TERM "${slot_pid[slot]}" 2>/dev/null || true; done
for slot in $(seq 0 $((workers - 1))); do wait "${slot_pid[slot]}" 2>/dev/null || true; done
# Idle for longer than a dead worker's lease plus the visibility timeout, so
# every message a killed worker held comes back before they give up.
drain_start=$SECONDS
for slot in $(seq 0 $((workers - 1))); do start_worker "$slot" --exit-when-idle 30; done
for slot in $(seq 0 $((workers - 1))); do
  while kill -0 "${slot_pid[slot]}" 2>/dev/null; do
    if [ $((SECONDS - drain_start)) -gt "$drain_seconds" ]; then
      echo "chaos: the queue did not drain within $drain_seconds s" >&2
      exit 1
    fi
    sleep 1
  done
done
echo "chaos: drained in $((SECONDS - drain_start)) s"

# ------------------------------------------------------------ the check
sqs_depth() { # QUEUE
  direct node "$here/tools/localaws/sqs-json.js" --endpoint "$stack_s3" GetQueueAttributes \
    "{\"QueueUrl\":\"$stack_s3/000000000000/$1\",\"AttributeNames\":[\"All\"]}" |
    jq -r '.Attributes | ((.ApproximateNumberOfMessages // "0") | tonumber) + ((.ApproximateNumberOfMessagesNotVisible // "0") | tonumber) + ((.ApproximateNumberOfMessagesDelayed // "0") | tonumber)'
}
notifications_left=$(sqs_depth "$name-notifications")
poison=$(sqs_depth "$name-poison")
direct "$aws_cli" --endpoint-url "$stack_ddb" dynamodb scan --table-name "$name-orders" \
  --output json >"$work/scan.json"
# Claims per object: more than one means a kill or a SIGTERM caught it in work.
direct "$aws_cli" --endpoint-url "$stack_ddb" dynamodb scan --table-name "$name-ledger" \
  --output json | jq '[.Items[] | (.attempts.N // "1") | tonumber] |
    {objects: length, claimed_again: map(select(. > 1)) | length, claims: add}' >"$work/ledger.json"
direct node "$here/tests/e2e/lib/drain-queue.mjs" --endpoint "$stack_s3" --queue "$dlq" \
  --max-receives 100000 >"$work/dlq.jsonl"
check_status=0
python3 "$here/scripts/chaos-check.py" --bucket "$name" --manifest "$work/manifest.json" \
  --scan "$work/scan.json" --dlq "$work/dlq.jsonl" --figures "$work/check.json" \
  $([ "$fifo" = 1 ] && echo --no-repeated-envelopes) || check_status=$?

jq -n --argjson check "$(cat "$work/check.json")" --argjson proxy "$(cat "$work/proxy-stats.json")" \
  --argjson seed "$seed" --argjson workers "$workers" --argjson seconds "$seconds" \
  --argjson kill9 "$kill9" --argjson sigterm "$sigterm" --argjson sigterm_unclean "$sigterm_unclean" \
  --argjson died "$died" --argjson started "$started" --argjson left "$notifications_left" \
  --argjson poison "$poison" --argjson fifo "$fifo" --argjson ledger "$(cat "$work/ledger.json")" \
  '{seed: $seed, workers: $workers, chaos_seconds: $seconds, fifo_dlq: ($fifo == 1),
    kills: {kill9: $kill9, sigterm: $sigterm, sigterm_not_exit_0: $sigterm_unclean,
            exited_on_their_own: $died, worker_processes: $started},
    ledger: $ledger, proxy: $proxy, notifications_left: $left, poison_messages: $poison, check: $check}' \
  >"$work/figures.json"
cat "$work/figures.json"
if [ "$check_status" != 0 ] || [ "$notifications_left" != 0 ] || [ "$poison" != 0 ] ||
  [ "$died" != 0 ] || [ "$sigterm_unclean" != 0 ]; then
  echo "chaos: FAILED (figures in $work/figures.json)" >&2
  exit 1
fi
echo "chaos: OK, $((kill9 + sigterm)) kills survived, no record lost (figures in $work/figures.json)"
