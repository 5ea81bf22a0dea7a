#!/usr/bin/env bash
# What no linter knows about deploy/*.yaml (tests/deploy/check_templates.py):
# the checks over the real templates, then each check against a template
# broken for the purpose.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/check_templates.py" "$DEPLOY_DIR" || fail "deploy templates (above)"
python3 "$here/check_templates.py" "$DEPLOY_DIR" --selftest || fail "a check missed a broken template (above)"
echo "$TEST_NAME: passed"
