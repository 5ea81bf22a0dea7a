#!/usr/bin/env bash
# The Debian package (packaging/deb): cpack builds it from this build tree
# into a fresh directory; then its name, its control fields (the library
# dependencies dpkg-shlibdeps found, ca-certificates), its files, the systemd
# unit (systemd-analyze verify), that apt could install it here with every
# dependency resolved (apt-get --simulate), and the packaged binary itself:
# `salesflow --version` and `salesflow validate` on a generated file, with
# the exit statuses 0 (valid) and 1 (rejects).
# Expects BUILD_DIR (the build tree) and SALESFLOW_SOURCE_DIR.
set -euo pipefail
: "${BUILD_DIR:?the build tree}"
: "${SALESFLOW_SOURCE_DIR:?the source tree}"
name=deb_package
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
work=$(mktemp -d "/tmp/$name.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for tool in cpack dpkg-deb dpkg-shlibdeps apt-get; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian packages cmake, dpkg-dev, apt: scripts/bootstrap.sh)"
done

for built in "$BUILD_DIR/salesflow" "$BUILD_DIR/packaging/deb/help/salesflow-worker.txt"; do
  [ -f "$built" ] || fail "$built is not built (cmake --build $BUILD_DIR --target salesflow help-texts)"
done
cpack --config "$BUILD_DIR/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed (above)"; }
version=$("$BUILD_DIR/salesflow" --version | awk '{print $NF}')
deb="$work/out/salesflow_${version}_amd64.deb"
[ -f "$deb" ] || { ls -l "$work/out" >&2; fail "no $deb"; }

control=$(dpkg-deb --field "$deb")
echo "$control" | grep -q '^Package: salesflow$' || fail "Package field: $control"
depends=$(dpkg-deb --field "$deb" Depends)
for lib in libc6 libcurl4 libssl3 libsimdjson14 ca-certificates; do
  echo "$depends" | grep -q "\\b$lib\\b" || fail "Depends lacks $lib: $depends"
done

files=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
for f in ./usr/bin/salesflow ./usr/lib/systemd/system/salesflow-worker.service \
  ./usr/share/doc/salesflow/README.md ./usr/share/doc/salesflow/deploy.md \
  ./usr/share/doc/salesflow/help/salesflow.txt ./usr/share/doc/salesflow/help/salesflow-worker.txt \
  ./usr/share/doc/salesflow/examples/salesflow.toml; do
  echo "$files" | grep -qx -- "$f" || fail "the package lacks $f"
done

dpkg-deb --extract "$deb" "$work/root"
grep -q -- '--config /etc/salesflow/salesflow.toml worker' "$work/root/usr/lib/systemd/system/salesflow-worker.service" ||
  fail "the unit does not run the worker with /etc/salesflow/salesflow.toml"
if command -v systemd-analyze >/dev/null; then
  # verify resolves ExecStart against this root's binary path.
  sed "s|/usr/bin/salesflow|$work/root/usr/bin/salesflow|" \
    "$work/root/usr/lib/systemd/system/salesflow-worker.service" >"$work/salesflow-worker.service"
  systemd-analyze verify "$work/salesflow-worker.service" >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >&2; fail "systemd-analyze verify rejects the unit"; }
  if grep -v 'Failed to .* No such file\|ConditionPathExists\|network-online' "$work/verify.log" | grep -q salesflow-worker; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify warns about the unit"
  fi
fi

# Every dependency resolvable from this machine's apt sources (nothing is installed).
apt-get install --simulate --no-download -o Debug::NoLocking=1 "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get cannot install the package here (above)"; }
grep -q '^Inst salesflow ' "$work/apt.log" || grep -q 'salesflow is already the newest' "$work/apt.log" ||
  { cat "$work/apt.log" >&2; fail "apt-get --simulate does not install salesflow"; }

bin="$work/root/usr/bin/salesflow"
[ "$("$bin" --version)" = "$("$BUILD_DIR/salesflow" --version)" ] || fail "packaged --version: $("$bin" --version)"
gen="$SALESFLOW_SOURCE_DIR/tests/e2e/lib/gen.py"
python3 "$gen" "$work/clean.jsonl" 200 --reject-every 1000 >/dev/null
python3 "$gen" "$work/mixed.jsonl" 300 --reject-every 7 >/dev/null
"$bin" validate --json "$work/clean.jsonl" >"$work/valid.json" ||
  fail "validate of a valid sample exited $?"
set +e
"$bin" validate --json "$work/mixed.jsonl" >"$work/mixed.json"
status=$?
set -e
[ "$status" -eq 1 ] || fail "validate of a file with rejects exited $status, want 1"
# A real installation, where the machine is the test's own (CI):
# SALESFLOW_TEST_DEB_INSTALL=1 installs it with apt, runs the installed
# binary, checks that systemd knows the unit, and removes the package again.
installed=""
if [ "${SALESFLOW_TEST_DEB_INSTALL:-0}" = 1 ]; then
  if dpkg-query -W -f='${Status}' salesflow 2>/dev/null | grep -q 'install ok installed'; then
    fail "a salesflow package is already installed here; remove it first (apt-get remove salesflow)"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "apt-get install of the package failed (above)"; }
  trap 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq salesflow >/dev/null 2>&1; rm -rf "$work"' EXIT
  [ "$(/usr/bin/salesflow --version)" = "$("$BUILD_DIR/salesflow" --version)" ] || fail "installed --version"
  /usr/bin/salesflow validate "$work/clean.jsonl" >/dev/null || fail "installed validate exited $?"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl cat salesflow-worker.service >/dev/null || fail "systemd does not know salesflow-worker.service"
  fi
  installed=", installed with apt and removed"
fi
echo "$name: $(basename "$deb") ($(stat -c %s "$deb") bytes): fields, files, unit, apt resolution, --version and validate (0 and 1) ok$installed"
