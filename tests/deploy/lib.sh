# Shared part of the deploy tests: where the templates are, and cfn-lint.
# Sourced; expects SALESFLOW_SOURCE_DIR (ctest sets it).
set -euo pipefail
SALESFLOW_SOURCE_DIR=${SALESFLOW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DEPLOY_DIR=$SALESFLOW_SOURCE_DIR/deploy
TEST_NAME=deploy-$(basename "$0" .sh)

fail() {
  echo "$TEST_NAME: FAIL: $*" >&2
  exit 1
}

# cfn-lint from PATH, else where `pipx install` puts it (scripts/bootstrap.sh).
find_cfn_lint() {
  local candidate
  for candidate in "$(command -v cfn-lint || true)" "$HOME/.local/bin/cfn-lint"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

python3 -c 'import yaml' 2>/dev/null ||
  fail "python3 cannot import yaml: the deploy tests need Debian's python3-yaml (scripts/bootstrap.sh installs it)"
