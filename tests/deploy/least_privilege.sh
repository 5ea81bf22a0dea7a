#!/usr/bin/env bash
# The calls `salesflow worker` and `salesflow lambda` made while the e2e suite
# ran (the local stack's operation log) against deploy/iam-policy.json, the
# policy both templates are checked against (tests/deploy/least_privilege.py
# says what is judged, and what a partial ctest run leaves out). The judge
# itself first shows it fails on made-up logs that break each rule.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
: "${SALESFLOW_LOCALAWS_OPERATION_LOG:?the operation log of the local AWS stack (tests/CMakeLists.txt)}"
python3 "$here/least_privilege.py" --selftest "$DEPLOY_DIR" || fail "the judge missed a broken log (above)"
set +e
python3 "$here/least_privilege.py" "$SALESFLOW_LOCALAWS_OPERATION_LOG" "$DEPLOY_DIR" \
  "$SALESFLOW_SOURCE_DIR/tests/e2e"
status=$?
set -e
[ "$status" -eq 77 ] && exit 77
[ "$status" -eq 0 ] || fail "least privilege (above)"
echo "$TEST_NAME: passed"
