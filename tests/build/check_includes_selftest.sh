#!/usr/bin/env bash
# scripts/check-includes.sh on small trees made here: it passes a layered one
# and fails, naming file, line and both layers, on each kind of wrong include.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
check="$here/scripts/check-includes.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A tree every layer of which includes only what it may.
make_tree() {
  rm -rf "$work/src"
  mkdir -p "$work/src"/{base,core,aws,pipeline,app}
  printf '#pragma once\n#include <string>\n' >"$work/src/base/text.hpp"
  printf '#pragma once\n#include "base/text.hpp"\n' >"$work/src/core/reader.hpp"
  mkdir -p "$work/src/core/detail"
  printf '#pragma once\n#include "core/reader.hpp"\n' >"$work/src/core/detail/scan.hpp"
  printf '#include "core/detail/scan.hpp"\n' >"$work/src/core/reader.cpp"
  printf '#include "aws/s3.hpp"\n#include "base/text.hpp"\n' >"$work/src/aws/s3.cpp"
  printf '#pragma once\n' >"$work/src/aws/s3.hpp"
  printf '#include "core/reader.hpp"\n  #  include "aws/s3.hpp"\n' >"$work/src/pipeline/job.cpp"
  printf '#include "pipeline/job.hpp"\n#include "base/text.hpp"\n' >"$work/src/app/cli.cpp"
  printf '#include "app/cli.hpp"\n#include "core/reader.hpp"\n' >"$work/src/main.cpp"
}

failures=0
expect_pass() {
  local output
  if ! output=$(bash "$check" "$work/src" 2>&1); then
    echo "FAIL ($1): the check failed on a layered tree:"
    echo "$output"
    failures=$((failures + 1))
  fi
}
# expect_fail NAME FILE LINE CONTENT PATTERN: FILE's line LINE made CONTENT must fail the check
# with a message matching PATTERN.
expect_fail() {
  local name=$1 file=$2 content=$3 pattern=$4 output status=0
  make_tree
  printf '%s\n' "$content" >>"$work/src/$file"
  output=$(bash "$check" "$work/src" 2>&1) || status=$?
  if ((status != 1)); then
    echo "FAIL ($name): exit status $status, expected 1; output:"
    echo "$output"
    failures=$((failures + 1))
  elif ! grep -Eq -- "$pattern" <<<"$output"; then
    echo "FAIL ($name): no line matching '$pattern' in:"
    echo "$output"
    failures=$((failures + 1))
  else
    echo "ok ($name): $(head -1 <<<"$output")"
  fi
}

make_tree
expect_pass "layered tree"
echo "ok (layered tree)"

expect_fail "base includes core" base/text.hpp '#include "core/reader.hpp"' \
  'src/base/text\.hpp:3: base includes core \("core/reader\.hpp"\): an upward include'
expect_fail "core includes pipeline" core/reader.hpp '#include "pipeline/job.hpp"' \
  'src/core/reader\.hpp:3: core includes pipeline .*upward'
expect_fail "pipeline includes app" pipeline/job.cpp '#include "app/cli.hpp"' \
  'src/pipeline/job\.cpp:3: pipeline includes app .*upward'
expect_fail "core includes aws" core/reader.hpp '#include "aws/s3.hpp"' \
  'src/core/reader\.hpp:3: core includes aws .*neither each other'
expect_fail "aws includes core" aws/s3.cpp '#include "core/reader.hpp"' \
  'src/aws/s3\.cpp:3: aws includes core'
expect_fail "an indented include" aws/s3.hpp '  # include "pipeline/job.hpp"' \
  'src/aws/s3\.hpp:2: aws includes pipeline'
expect_fail "a bare include" core/reader.hpp '#include "reader_detail.hpp"' \
  'src/core/reader\.hpp:3: core includes "reader_detail\.hpp" without its layer folder'
expect_fail "another layer's detail header" pipeline/job.cpp '#include "core/detail/scan.hpp"' \
  'src/pipeline/job\.cpp:3: pipeline includes "core/detail/scan\.hpp": core.s internals'
expect_fail "not a layer" app/cli.cpp '#include "tests/support.hpp"' \
  'src/app/cli\.cpp:3: app includes "tests/support\.hpp": tests is not a layer'

# Commented-out and system includes are not read.
make_tree
printf '// #include "app/cli.hpp"\n#include <app/cli.hpp>\n' >>"$work/src/base/text.hpp"
expect_pass "comments and angle brackets"
echo "ok (comments and angle brackets)"

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "check-includes self-test: all checks passed"
