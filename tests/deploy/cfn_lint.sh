#!/usr/bin/env bash
# cfn-lint over deploy/*.yaml: any error or warning fails. A template broken
# on purpose is linted in the same run and must be reported, so a cfn-lint
# that checks nothing (no resource specs, a wrong file list) fails too.
source "$(dirname "$0")/lib.sh"

cfn_lint=$(find_cfn_lint) ||
  fail "cfn-lint is not installed (not a Debian 12 package): run scripts/bootstrap.sh, which installs cfn-lint 1.51.0 with pipx, or 'pipx install cfn-lint==1.51.0' / 'pip install cfn-lint==1.51.0'"
version=$("$cfn_lint" --version 2>&1) || fail "$cfn_lint --version failed: $version"
case "$version" in
  "cfn-lint 1."*) ;;
  *) fail "$cfn_lint is '$version'; the templates are checked with cfn-lint 1.x (1.51.0)" ;;
esac

work=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A queue property misspelt and a Ref to nothing: two errors cfn-lint must see.
cat >"$work/broken.yaml" <<'YAML'
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeOut: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Poison.Arn
        maxReceiveCount: 5
YAML

set +e
"$cfn_lint" --format parseable "$DEPLOY_DIR/salesflow.yaml" "$DEPLOY_DIR/salesflow-ecs.yaml" \
  "$work/broken.yaml" >"$work/lint.out" 2>&1
status=$?
set -e
# parseable: FILE:LINE:COL:ENDLINE:ENDCOL:RULE:MESSAGE
if grep -v "^$work/broken.yaml:" "$work/lint.out" | grep -q .; then
  cat "$work/lint.out" >&2
  fail "cfn-lint reports problems in deploy/*.yaml (above)"
fi
grep -q "^$work/broken.yaml:.*:E3002:" "$work/lint.out" ||
  { cat "$work/lint.out" >&2; fail "cfn-lint did not report the misspelt property of the broken template (E3002): it checks nothing"; }
grep -q "^$work/broken.yaml:.*:E1010:" "$work/lint.out" ||
  { cat "$work/lint.out" >&2; fail "cfn-lint did not report the GetAtt to nothing of the broken template (E1010)"; }
[ $((status & 2)) -ne 0 ] || fail "cfn-lint exited $status for a template with errors"
echo "$TEST_NAME: $version: deploy/salesflow.yaml and deploy/salesflow-ecs.yaml clean; the broken control template reported"
