#!/usr/bin/env bash
# Runs every fuzz_* binary in BUILD_DIR for SECONDS each, from the seed corpus in
# fuzz/corpus/<name>/ when there is one. Fails on the first crash.
set -euo pipefail
build=${1:?build dir}
seconds=${2:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shopt -s nullglob
ran=0
for fuzzer in "$build"/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  name=${name#fuzz_}
  work=$(mktemp -d)
  seeds=()
  [ -d "$here/fuzz/corpus/$name" ] && seeds=("$here/fuzz/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  "$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/crash-$name-" \
    "$work" "${seeds[@]}" 2>&1 | tail -n 12
  rm -rf "$work"
  ran=$((ran + 1))
done
echo "fuzz: $ran fuzzer(s) ran without a crash"
