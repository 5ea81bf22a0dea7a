#!/usr/bin/env bash
# The Lambda package's size and the start time of its binary: the zip's size,
# the unzipped size, and the wall time of `bootstrap --version` (launcher,
# bundled loader, bundled libraries) against the plain `salesflow --version`,
# median of N runs each, interleaved, with /bin/true as the cost of the
# measuring loop itself. bench/README.md records the results.
#
#   scripts/bench-lambda-start.sh [BUILD_DIR] [N]
set -euo pipefail
build=${1:-build}
runs=${2:-20}
zip="$build/salesflow-lambda.zip"
[ -f "$zip" ] || { echo "bench-lambda-start: $zip missing: make lambda-package" >&2; exit 2; }
[ -x "$build/salesflow" ] || { echo "bench-lambda-start: $build/salesflow missing" >&2; exit 2; }
work=$(mktemp -d /tmp/bench-lambda-start.XXXXXX)
trap 'rm -rf "$work"' EXIT
unzip -q "$zip" -d "$work/task"

# Milliseconds (three decimals) of one run of the command, its output discarded.
wall_ms() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || { echo "bench-lambda-start: $* failed" >&2; exit 1; }
  end=$(date +%s%N)
  echo "$(((end - start) / 1000))" | awk '{ printf "%.3f\n", $1 / 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

baseline=() plain=() packaged=()
"$build/salesflow" --version >/dev/null && "$work/task/bootstrap" --version >/dev/null  # warm the page cache
for ((i = 0; i < runs; i++)); do
  baseline+=("$(wall_ms /bin/true)")
  plain+=("$(wall_ms "$build/salesflow" --version)")
  packaged+=("$(wall_ms "$work/task/bootstrap" --version)")
done
echo "zip: $(stat -c %s "$zip") bytes; unzipped: $(du -sb "$work/task" | cut -f1) bytes in $(find "$work/task" -type f | wc -l) files"
echo "/bin/true (the loop's own cost): median $(printf '%s\n' "${baseline[@]}" | median) ms (N=$runs)"
echo "salesflow --version: median $(printf '%s\n' "${plain[@]}" | median) ms (N=$runs)"
echo "bootstrap --version: median $(printf '%s\n' "${packaged[@]}" | median) ms (N=$runs)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
