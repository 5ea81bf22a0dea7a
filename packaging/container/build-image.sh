#!/usr/bin/env bash
# Builds the worker image of deploy/Containerfile with buildah, offline: the
# context is staged from the Lambda zip, the base is `scratch`, nothing is
# pulled.
#   build-image.sh ZIP TAG [OCI_ARCHIVE]
# With OCI_ARCHIVE the image is also written there (oci-archive format).
# Storage: buildah's default, or $BUILDAH_STORAGE_ROOT (vfs driver) to keep it
# out of the system store.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: build-image.sh ZIP TAG [OCI_ARCHIVE]" >&2; exit 2; }
zip=$1 tag=$2 archive=${3:-}
command -v buildah >/dev/null ||
  { echo "build-image.sh: buildah is missing (Debian package buildah)" >&2; exit 2; }
command -v unzip >/dev/null || { echo "build-image.sh: unzip is missing (Debian package unzip)" >&2; exit 2; }
[ -f "$zip" ] || { echo "build-image.sh: no $zip (make lambda-package)" >&2; exit 2; }
storage=()
if [ -n "${BUILDAH_STORAGE_ROOT:-}" ]; then
  storage=(--root "$BUILDAH_STORAGE_ROOT" --runroot "$BUILDAH_STORAGE_ROOT/run" --storage-driver vfs)
fi
context=$(mktemp -d /tmp/salesflow-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/var/task" "$context/tmp"
chmod 1777 "$context/tmp"
unzip -q "$zip" -d "$context/var/task"
buildah "${storage[@]}" bud --quiet --pull=never --layers=false -f "$here/deploy/Containerfile" \
  -t "$tag" "$context" >/dev/null
if [ -n "$archive" ]; then
  rm -f "$archive"
  buildah "${storage[@]}" push --quiet "$tag" "oci-archive:$archive:$tag"
fi
echo "build-image.sh: $tag${archive:+ -> $archive}"
