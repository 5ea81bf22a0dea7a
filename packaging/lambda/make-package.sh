#!/usr/bin/env bash
# Builds the Lambda zip (docs/lambda.md, "The package"): the stripped salesflow
# binary, the dynamic loader and every shared library it loads (as ldd resolves
# them on this machine), the static `bootstrap` launcher and the CA bundle.
# No network; zip entries in a fixed order with a fixed time, so the same
# inputs give the same zip.
#
#   make-package.sh BINARY BOOTSTRAP CA_BUNDLE STRIP STAGE_DIR OUT_ZIP
set -euo pipefail

if [ $# -ne 6 ]; then
  echo "usage: make-package.sh BINARY BOOTSTRAP CA_BUNDLE STRIP STAGE_DIR OUT_ZIP" >&2
  exit 2
fi
binary=$1 launcher=$2 ca_bundle=$3 strip=$4
stage=$(realpath -m "$5") out=$(realpath -m "$6")

die() { echo "make-package: $*" >&2; exit 1; }
for f in "$binary" "$launcher" "$ca_bundle"; do
  [ -f "$f" ] && [ -r "$f" ] || die "$f: no such readable file"
done
command -v zip >/dev/null || die "zip not found (Debian package zip; scripts/bootstrap.sh installs it)"
grep -q 'BEGIN CERTIFICATE' "$ca_bundle" || die "$ca_bundle: no PEM certificate in it"

rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib" "$stage/etc"

# ldd prints "soname => /path (0x...)" per library, "/path/ld-linux-x86-64.so.2
# (0x...)" for the loader and a line without a path for the vDSO.
deps=$(ldd "$binary") || die "ldd $binary failed"
if grep -q 'not found' <<<"$deps"; then
  die "$binary: libraries not found: $(grep 'not found' <<<"$deps" | sed 's/^[[:space:]]*//' | paste -sd,)"
fi
loader=
while read -r first arrow path _; do
  if [ "$arrow" = "=>" ]; then
    [ -f "$path" ] || continue  # the vDSO on some systems ("=> (0x...)")
    cp -L "$path" "$stage/lib/$first"
  elif [ -f "$first" ] && [[ $(basename "$first") == ld-linux-* ]]; then
    loader=$first
  fi
done <<<"$deps"
[ -n "$loader" ] || die "ldd named no dynamic loader for $binary (is it linked statically?)"
# The launcher runs the loader by this name.
cp -L "$loader" "$stage/lib/ld-linux-x86-64.so.2"

"$strip" --strip-all -o "$stage/bin/salesflow" "$binary"
"$strip" --strip-all -o "$stage/bootstrap" "$launcher"
for lib in "$stage"/lib/*; do
  "$strip" --strip-debug "$lib"
done
cp "$ca_bundle" "$stage/etc/ca-certificates.crt"

chmod 0755 "$stage/bootstrap" "$stage/bin/salesflow" "$stage"/lib/*
chmod 0644 "$stage/etc/ca-certificates.crt"
find "$stage" -exec touch -h -d 2000-01-01T00:00:00Z {} +

rm -f "$out"
# -X: no uid/gid or extra time fields (the Unix mode bits stay); -D: no directory entries.
(cd "$stage" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | zip -q -X -D -9 "$out" -@) ||
  die "zip failed"
echo "make-package: $out ($(stat -c %s "$out") bytes, $(find "$stage/lib" -type f | wc -l) files in lib/)"
