#!/usr/bin/env bash
# The worker image (deploy/Containerfile), built offline with buildah from
# scratch and this build's Lambda zip into a private vfs store, written as an
# OCI archive; then its config (entrypoint, command `worker`, non-root user,
# SIGTERM) is read from the archive, its one layer unpacked into an empty
# root, and the entrypoint run there as a runtime would (its own mount
# namespace, /proc, nothing of this machine, as the image's user 65534):
# `--version` and `validate`.
# Expects SALESFLOW_LAMBDA_ZIP, SALESFLOW_BINARY and SALESFLOW_SOURCE_DIR.
set -euo pipefail
: "${SALESFLOW_LAMBDA_ZIP:?the Lambda zip}" "${SALESFLOW_BINARY:?}" "${SALESFLOW_SOURCE_DIR:?}"
name=container_image
fail() { echo "$name: FAIL: $*" >&2; exit 1; }
command -v buildah >/dev/null ||
  fail "buildah is missing: the image is built offline with Debian's buildah (scripts/bootstrap.sh installs it)"
if ! unshare --mount --propagation private -- true 2>/dev/null; then
  echo "$name: SKIPPED: needs root with mount namespaces (unshare --mount) to run the image's root" >&2
  exit 77
fi
work=$(mktemp -d "/tmp/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

BUILDAH_STORAGE_ROOT="$work/storage" bash "$SALESFLOW_SOURCE_DIR/packaging/container/build-image.sh" \
  "$SALESFLOW_LAMBDA_ZIP" localhost/salesflow:test "$work/image.tar" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the image (above)"; }

mkdir "$work/oci" "$work/root"
tar -xf "$work/image.tar" -C "$work/oci"
python3 - "$work/oci" "$work/root" <<'PY' || fail "the image's config or layer (above)"
import json, sys, tarfile
oci, root = sys.argv[1:]
def blob(digest):
    return f"{oci}/blobs/{digest.replace(':', '/')}"
index = json.load(open(f"{oci}/index.json"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))["config"]
want = {"Entrypoint": ["/var/task/bootstrap"], "Cmd": ["worker"], "User": "65534:65534",
        "StopSignal": "SIGTERM", "WorkingDir": "/var/task"}
bad = {k: config.get(k) for k, v in want.items() if config.get(k) != v}
if bad:
    sys.exit(f"image config {bad}, want {want}")
if len(manifest["layers"]) != 1:
    sys.exit(f"{len(manifest['layers'])} layers, want 1 (FROM scratch + the bundle)")
with tarfile.open(blob(manifest["layers"][0]["digest"])) as layer:
    names = layer.getnames()
    for need in ("var/task/bootstrap", "var/task/bin/salesflow", "var/task/lib/ld-linux-x86-64.so.2",
                 "var/task/etc/ca-certificates.crt"):
        if need not in [n.lstrip("./") for n in names]:
            sys.exit(f"the layer lacks {need}")
    layer.extractall(root)
print(f"config {want}; one layer of {len(names)} entries")
PY
mkdir -p "$work/root/proc" "$work/root/data"
gen="$SALESFLOW_SOURCE_DIR/tests/e2e/lib/gen.py"
python3 "$gen" "$work/root/data/clean.jsonl" 200 --reject-every 1000 >/dev/null
python3 "$gen" "$work/root/data/mixed.jsonl" 300 --reject-every 7 >/dev/null
in_image() { # ARGS...: the entrypoint with ARGS, in the image's root only
  timeout 60 unshare --mount --propagation private -- bash -c '
    root=$1; shift
    mount --bind /proc "$root/proc"
    exec /usr/bin/env -i /usr/bin/unshare --root="$root" --wd=/var/task --setgid 65534 --setuid 65534 \
      /var/task/bootstrap "$@"' \
    in_image "$work/root" "$@"
}
got=$(in_image --version 2>&1) || fail "the entrypoint --version: $got"
[ "$got" = "$("$SALESFLOW_BINARY" --version)" ] || fail "--version in the image: $got"
in_image validate /data/clean.jsonl >"$work/valid.out" 2>&1 ||
  { cat "$work/valid.out" >&2; fail "validate of a valid file in the image exited non-zero"; }
set +e
in_image validate /data/mixed.jsonl >"$work/malformed.out" 2>&1
status=$?
set -e
[ "$status" -eq 1 ] || { cat "$work/malformed.out" >&2; fail "validate of rejects in the image exited $status, want 1"; }
echo "$name: image built offline ($(stat -c %s "$work/image.tar") bytes as OCI archive); config, layer, --version and validate (0, 1) in its root ok"
