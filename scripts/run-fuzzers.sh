#!/usr/bin/env bash
# Runs every fuzz_* binary in BUILD_DIR for SECONDS each, from the seed corpus in
# fuzz/corpus/<name>/ when there is one, side by side (each fuzzer is one
# process on one core). Fails when any of them found a crash.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shopt -s nullglob
names=()
pids=()
outputs=()
for fuzzer in "$build"/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  name=${name#fuzz_}
  work=$(mktemp -d)
  seeds=()
  [ -d "$here/fuzz/corpus/$name" ] && seeds=("$here/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/crash-$name-" "$work" "${seeds[@]}" >"$work.log" 2>&1 &
  names+=("$name")
  pids+=($!)
  outputs+=("$work")
done
failed=0
for i in "${!pids[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  echo "fuzz: ${names[$i]} (exit status $status)"
  tail -n 12 "${outputs[$i]}.log"
  rm -rf "${outputs[$i]}" "${outputs[$i]}.log"
  [ "$status" -eq 0 ] || failed=$((failed + 1))
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: $failed of ${#pids[@]} fuzzer(s) failed; the crashing inputs are in $build/fuzz/crash-*" >&2
  exit 1
fi
echo "fuzz: ${#pids[@]} fuzzer(s) ran without a crash"
