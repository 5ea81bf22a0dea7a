#!/usr/bin/env bash
# The worker against the in-memory benchmark sink (bench/sink.cpp).
#   scripts/bench-worker.sh [BUILD_DIR] [--perf]   (BENCH_PERF_CASE=b: profile case (b))
# Cases: (a) latency 0, (b) latency 10 ms, (c) a 2,000 WCU table for about a
# minute of writing, (d) latency 50 ms, with the adaptive in-flight limit and
# with the fixed 32 requests per object of earlier versions. For
# each: records, wall, records/s, worker CPU (user+sys, /usr/bin/time) and
# µs/record, the sink's CPU, throttled/all BatchWriteItem, WCU used per second.
# Every run is checked to have ended exactly: items written + DLQ messages ==
# records, every notification deleted, every ledger item done.
# Sizes: BENCH_OBJECTS x BENCH_RECORDS (default 20 x 100,000 ~1 KB records),
# BENCH_REJECT_EVERY (default 1000), BENCH_SINK_PORT (default 26070).
# BENCH_CASES: the cases to run, space-separated names (default: all).
set -euo pipefail
build=${1:-build}
perf=no
[[ "${2:-}" == "--perf" ]] && perf=yes
perf_case=${BENCH_PERF_CASE:-a}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${BENCH_SINK_PORT:-26070}
objects=${BENCH_OBJECTS:-20}
records=${BENCH_RECORDS:-100000}
reject_every=${BENCH_REJECT_EVERY:-1000}
work=$(mktemp -d)
sink_pid=
stop_sink() {
  if [[ -n "$sink_pid" ]]; then kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; fi
  sink_pid=
}
trap 'stop_sink; rm -rf "$work"' EXIT

endpoint=http://127.0.0.1:$port
export AWS_ENDPOINT_URL_S3=$endpoint AWS_ENDPOINT_URL_SQS=$endpoint AWS_ENDPOINT_URL_DYNAMODB=$endpoint
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

# run NAME SINK_ARGS... -- WORKER_ARGS...
run() {
  local name=$1; shift
  if [[ -n "${BENCH_CASES:-}" && " $BENCH_CASES " != *" $name "* ]]; then return 0; fi
  local sink_args=() worker_args=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do sink_args+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  worker_args=("$@")
  "$build/bench/bench_sink" --port "$port" "${sink_args[@]}" >"$work/sink.log" 2>&1 &
  sink_pid=$!
  until curl -sf "$endpoint/stats" >/dev/null 2>&1; do sleep 0.2; done
  local prefix=()
  if [[ "$perf" == yes && "$name" == "$perf_case" ]]; then
    prefix=(perf record -q -F 499 -g --call-graph dwarf,8192 -o "$work/perf.data" --)
  fi
  /usr/bin/time -f "%e %U %S" -o "$work/time" "${prefix[@]}" "$build/salesflow" worker \
    --exit-when-idle 2 "${worker_args[@]}" 2>"$work/worker.log" >/dev/null || true
  [[ -n "${BENCH_KEEP_LOGS:-}" ]] && cp "$work/worker.log" "$BENCH_KEEP_LOGS/worker-$name.log"
  curl -sf "$endpoint/stats" >"$work/stats.json"
  stop_sink
  echo "== case $name: sink ${sink_args[*]}; worker ${worker_args[*]:-(defaults)}"
  python3 - "$work/worker.log" "$work/stats.json" "$work/time" "$perf" "$name" <<'PY'
import json, sys
log, stats_path, time_path, perf, name = sys.argv[1:6]
stats = json.load(open(stats_path))
c = stats["counters"]
wall, user, sys_ = (float(x) for x in open(time_path).read().split()[-3:])
finished = [json.loads(l) for l in open(log) if '"object finished"' in l]
records = stats["records"]
# Rates over what the worker finished (an inexact run says so below).
done = sum(f["records"] for f in finished if f.get("outcome") == "completed")
written = c.get("dynamodb.items_written", 0)
dlq = stats["dlq_messages"]
problems = []
if written + dlq != records: problems.append(f"written {written} + DLQ {dlq} != records {records}")
if stats["notifications_left"] != 0 or stats["notifications_deleted"] != stats["objects"]:
    problems.append(f"notifications deleted {stats['notifications_deleted']} of {stats['objects']}")
if stats["ledger_done"] != stats["objects"]: problems.append(f"ledger done {stats['ledger_done']} of {stats['objects']}")
failed = [f for f in finished if f.get("outcome") != "completed"]
if failed or len(finished) != stats["objects"]: problems.append(f"{len(finished)} objects finished, {len(failed)} not completed")
# The span of object work: first start to last finish, from the log's timestamps.
import datetime
def at(f):
    return datetime.datetime.fromisoformat(f["ts"].replace("Z", "+00:00")).timestamp()
busy_wall = (max(at(f) for f in finished) - min(at(f) - f["duration_ms"] / 1000 for f in finished)) if finished else 0.0
per_object = [f["records_per_s"] for f in finished]
cpu = user + sys_
bwi = c.get("dynamodb.BatchWriteItem", 0)
throttled = c.get("dynamodb.throttled_requests", 0)
partial = c.get("dynamodb.partially_throttled_requests", 0)
uptime_writes = stats["uptime_seconds"]
print(f"records {done} of {records} completed ({dlq} to the DLQ), wall {wall:.2f} s, {done / wall:,.0f} records/s overall "
      f"(worker process start to exit, incl. the 2 s idle wait: {done / max(wall - 2, 1e-9):,.0f} without it)")
print(f"object finished lines: {len(finished)}, records/s per object min/median/max "
      f"{min(per_object):,.0f}/{sorted(per_object)[len(per_object)//2]:,.0f}/{max(per_object):,.0f}")
print(f"worker CPU {cpu:.2f} s (user {user:.2f} + sys {sys_:.2f}) = {cpu / max(done, 1) * 1e6:.2f} us/record; "
      f"sink CPU {stats['cpu_seconds']:.2f} s ({stats['cpu_seconds'] / max(done, 1) * 1e6:.2f} us/record)")
print(f"BatchWriteItem {bwi}, throttled (400) {throttled} = {100 * throttled / max(bwi, 1):.1f} %, "
      f"partly unprocessed {partial}; write units {c.get('dynamodb.write_units', 0)}, "
      f"{c.get('dynamodb.write_units', 0) / max(busy_wall, 1e-9):,.0f} WCU/s over the objects' span"
      + (f" = {100 * c.get('dynamodb.write_units', 0) / max(busy_wall, 1e-9) / stats['wcu']:.1f} % of {stats['wcu']}" if stats["wcu"] else ""))
print("requests: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k[0:3] in ("s3.", "sqs", "dyn") and k.split(".")[1][0].isupper()))
limits = sorted(f.get("requests_limit", 0) for f in finished)
highest = [f.get("requests_limit_highest", 0) for f in finished]
if limits:
    print(f"write requests in flight per object (the adaptive limit): at the end min/median/max "
          f"{limits[0]}/{limits[len(limits)//2]}/{limits[-1]}, highest {max(highest)}")
print("exact: yes" if not problems else "EXACT: NO: " + "; ".join(problems))
PY
  if [[ "$perf" == yes && "$name" == "$perf_case" ]]; then
    mkdir -p "$here/docs/perf"
    perf script -i "$work/perf.data" 2>/dev/null | python3 "$here/scripts/flamegraph.py" collapse >"$work/folded"
    local svg=zero-latency title="zero-latency sink"
    [[ "$name" == b ]] && svg=10ms-latency title="sink answering after 10 ms"
    python3 "$here/scripts/flamegraph.py" svg --title "salesflow worker, $title" \
      <"$work/folded" >"$here/docs/perf/worker-$svg.svg"
    [[ -n "${BENCH_KEEP_LOGS:-}" ]] && cp "$work/folded" "$BENCH_KEEP_LOGS/worker-$svg.folded"
    python3 "$here/scripts/flamegraph.py" top 25 <"$work/folded"
  fi
}

size=(--objects "$objects" --records "$records" --reject-every "$reject_every")
if [[ "$perf" == yes ]]; then  # the profile only: case (a), or (b) with BENCH_PERF_CASE=b
  if [[ "$perf_case" == b ]]; then
    run b "${size[@]}" --latency-ms 10 --
  else
    run a "${size[@]}" --latency-ms 0 --
  fi
  exit 0
fi
run a "${size[@]}" --latency-ms 0 --
run b "${size[@]}" --latency-ms 10 --
# ~1.1 KB items are 2 WCU each: 2,000 WCU is ~1,000 items/s, 60,000 records a minute.
run c --objects 4 --records 15000 --reject-every "$reject_every" --wcu 2000 --
# The throttled case with fewer writes in flight (1 object, 2 requests).
run c-objects1-requests2 --objects 4 --records 15000 --reject-every "$reject_every" --wcu 2000 -- --objects 1 --requests 2
# A distant table (50 ms a request, another region): the adaptive limit against
# the fixed 32 a request per object that was the default before it.
run d "${size[@]}" --latency-ms 50 --
run d-requests32 "${size[@]}" --latency-ms 50 -- --requests 32
