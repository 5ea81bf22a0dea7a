#!/usr/bin/env bash
# Runs every benchmark program of BUILD_DIR, then the end-to-end benchmark on
# the local AWS stack. Results go to stdout; bench/README.md records them.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for program in "$build"/bench/bench_*; do
  [ -x "$program" ] || continue
  case "$(basename "$program")" in
    bench_dynamodb_ceiling) continue ;;  # needs the local stack: run by bench-e2e.sh
  esac
  echo "== $(basename "$program")"
  "$program" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
done
bash "$here/scripts/bench-e2e.sh" "$build"
