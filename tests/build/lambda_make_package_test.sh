#!/usr/bin/env bash
# packaging/lambda/make-package.sh refuses what cannot make a working package,
# each with its reason: a missing input, a CA file without a PEM certificate,
# a statically linked binary (ldd names no loader), a binary whose library is
# missing. Then it packs a small dynamic binary: loader, libc and the binary,
# modes kept. Needs a C++ compiler (CXX, default c++) to make the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
script="$here/packaging/lambda/make-package.sh"
work=$(mktemp -d /tmp/lambda-make-package-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cxx=${CXX:-c++}
checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
# Runs the script; expects exit status STATUS and MESSAGE (a fixed string) on stderr.
expect_refusal() { # WHAT STATUS MESSAGE ARGS...
  local what=$1 expected=$2 message=$3 status=0
  shift 3
  bash "$script" "$@" >"$work/out" 2>"$work/err" || status=$?
  [ "$status" = "$expected" ] ||
    fail "$what: exit status $status, expected $expected ($(cat "$work/err"))"
  grep -qF -- "$message" "$work/err" || fail "$what: stderr [$(cat "$work/err")] lacks [$message]"
  [ ! -e "$work/out.zip" ] || fail "$what: a zip was written"
  checks=$((checks + 1))
  echo "ok: $what"
}

echo 'int main() { return 0; }' >"$work/main.cpp"
"$cxx" -o "$work/dynamic" "$work/main.cpp"
"$cxx" -static -o "$work/static" "$work/main.cpp"
echo 'int helper() { return 1; }' >"$work/helper.cpp"
"$cxx" -shared -fPIC -o "$work/libhelper.so" "$work/helper.cpp"
echo 'int helper(); int main() { return helper(); }' >"$work/uses.cpp"
"$cxx" -o "$work/uses-helper" "$work/uses.cpp" -L"$work" -lhelper
rm "$work/libhelper.so"
printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$work/ca.pem"
echo 'not a certificate' >"$work/not-pem.crt"

expect_refusal "wrong argument count" 2 "usage: make-package.sh" "$work/dynamic"
expect_refusal "a missing binary" 1 "$work/none: no such readable file" \
  "$work/none" "$work/static" "$work/ca.pem" strip "$work/stage" "$work/out.zip"
expect_refusal "a CA file without a PEM certificate" 1 "$work/not-pem.crt: no PEM certificate in it" \
  "$work/dynamic" "$work/static" "$work/not-pem.crt" strip "$work/stage" "$work/out.zip"
expect_refusal "a static binary" 1 "ldd $work/static failed" \
  "$work/static" "$work/static" "$work/ca.pem" strip "$work/stage" "$work/out.zip"
expect_refusal "a library that is not found" 1 "libraries not found: libhelper.so => not found" \
  "$work/uses-helper" "$work/static" "$work/ca.pem" strip "$work/stage" "$work/out.zip"

bash "$script" "$work/dynamic" "$work/static" "$work/ca.pem" strip "$work/stage" "$work/out.zip" \
  >/dev/null || fail "packing a small dynamic binary"
listing=$(zipinfo "$work/out.zip")
for f in bootstrap bin/salesflow lib/ld-linux-x86-64.so.2 lib/libc.so.6; do
  grep -qE "^-rwxr-xr-x .* $f\$" <<<"$listing" || fail "$f not in the zip with mode 0755: $listing"
done
grep -qE "^-rw-r--r-- .* etc/ca-certificates.crt\$" <<<"$listing" || fail "CA file missing: $listing"
checks=$((checks + 1))
echo "ok: a small dynamic binary is packed with its loader and libc"
echo "lambda_make_package_test: $checks passed, 0 failed"
