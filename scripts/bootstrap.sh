#!/usr/bin/env bash
# Installs everything salesflow's build, tests and demo need on Debian 12.
# Idempotent: packages already present are skipped, `npm ci` runs only when
# the lock file changed since the last run. Runs as root or through sudo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake pkg-config git ca-certificates curl
  libsimdjson-dev libcurl4-openssl-dev libssl-dev rapidjson-dev libpugixml-dev
  libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev libisal-dev zlib1g-dev
  prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libexpected-dev libcpp-httplib-dev libre2-dev
  clang-14 libclang-rt-14-dev clang-format clang-tidy
  awscli jq python3 python3-yaml gzip procps zip unzip openssl
  buildah dpkg-dev chromium
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "bootstrap: run as root or install sudo" >&2; exit 2; }
  sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js 20 or newer with npm: Debian's own nodejs package is used only when no
# node is installed (a NodeSource build already carries npm and must not be replaced).
if ! command -v node >/dev/null; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "bootstrap: Debian packages present"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "bootstrap: Node.js $(node --version) found; the local AWS stack needs Node.js 20 or newer" >&2
  exit 2
fi

# npm packages pinned by their package-lock: the local AWS stack, and
# puppeteer-core for the browser test of the console (test tooling only).
for dir in "$here/tools/localaws" "$here/tests/browser"; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.salesflow-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: npm ci in ${dir#"$here"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  else
    echo "bootstrap: ${dir#"$here"/}/node_modules up to date"
  fi
done
# cfn-lint (the deploy.cfn_lint test) is no Debian 12 package: pipx installs
# the pinned release into ~/.local/bin, where the test also looks for it.
cfn_lint_version=1.51.0
if command -v cfn-lint >/dev/null || [ -x "$HOME/.local/bin/cfn-lint" ]; then
  echo "bootstrap: cfn-lint present"
else
  if ! command -v pipx >/dev/null; then
    echo "bootstrap: installing pipx (for cfn-lint $cfn_lint_version)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends pipx >/dev/null
  fi
  echo "bootstrap: pipx install cfn-lint==$cfn_lint_version"
  pipx install --quiet "cfn-lint==$cfn_lint_version" || {
    echo "bootstrap: cannot install cfn-lint $cfn_lint_version with pipx (no network to PyPI?);" \
      "install it by hand (pipx or pip install cfn-lint==$cfn_lint_version): the deploy.cfn_lint test needs it" >&2
    exit 2
  }
fi
echo "bootstrap: done"
