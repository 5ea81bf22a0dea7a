#!/usr/bin/env python3
"""Least privilege, proven by the calls salesflow really makes.

  least_privilege.py OPERATION_LOG DEPLOY_DIR E2E_DIR
  least_privilege.py --selftest DEPLOY_DIR

OPERATION_LOG is the local AWS stack's log of every call it served
(tools/localaws/start --operation-log), written while the e2e suite ran.
The calls of `salesflow worker` and `salesflow lambda` (their User-Agent says
so) are mapped to IAM actions and to the resources of deploy/salesflow.yaml
(by the e2e suite's resource names, tests/e2e/lib/common.sh), then:

  - every call must be allowed by a grant of deploy/iam-policy.json for that
    command's role (worker: the processing policy; lambda: it and the
    function's own) -- always checked;
  - every grant that names operations must have been used -- checked only
    when every e2e test that runs a worker or the function ran in the stack's
    lifetime (a test that failed half-way counts as run: its missing calls
    then show as unused grants, and the message says so) (a ctest subset cannot tell an unused grant from an untested
    one: it says which tests were missing and checks the first part only).

Exit 0 passed, 1 failed, 77 nothing to judge (no worker or function ran).
"""

import json
import os
import re
import sys

AGENT = re.compile(r"^salesflow/\S+ command/(\w+)")
COMMANDS = {"worker": {"processing"}, "lambda": {"processing", "lambda"}}
# AWS operation -> the IAM action that authorizes it, where the names differ.
IAM_ACTION = {
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
OFFLOAD_PREFIX = "salesflow-dlq-offload/"
# The e2e suite's names (tests/e2e/lib/common.sh): e2e-<test>-<pid>-<random>[-role].
NAME = re.compile(r"^e2e-([a-z0-9-]+?)-\d+-\d+(-[a-z.-]+)?$")
ROLES = {
    "s3": {"": "Bucket", "-dlq-offload": "Bucket", "-broken": "Bucket"},
    "dynamodb": {"-orders": "RecordsTable", "-ledger": "LedgerTable"},
    "sqs": {"-notifications": "NotificationQueue", "-poison": "PoisonQueue",
            "-dlq": "RecordsDlq", "-dlq.fifo": "RecordsDlq"},
}


def iam_action(service, operation):
    name = f"{service}:{operation}"
    return IAM_ACTION.get(name, name)


def resource_of(service, target):
    m = NAME.match(target)
    if not m:
        return None
    return ROLES.get(service, {}).get(m.group(2) or "")


def check_grants_file(grants):
    errors = []
    for g in grants:
        for op in g["operations"]:
            service, operation = op.split(":", 1)
            if iam_action(service, operation) != g["action"]:
                errors.append(f"deploy/iam-policy.json: {op} is authorized by "
                              f"{iam_action(service, operation)}, not {g['action']}")
        if not g["operations"] and not g.get("why"):
            errors.append(f"deploy/iam-policy.json: {g['action']} on {g['resource']} names no "
                          "operation and no 'why'")
    return errors


def judge(lines, grants, required_tests):
    """Returns (errors, notes, full)."""
    errors, notes = check_grants_file(grants), []
    ran, used, calls = set(), set(), 0
    for line in lines:
        for target in line.get("targets", []):
            m = NAME.match(target)
            if m:
                ran.add(m.group(1))
        agent = AGENT.match(line.get("agent", ""))
        if not agent or agent.group(1) not in COMMANDS:
            continue
        command = agent.group(1)
        service, operation = line["service"], line["operation"]
        op = f"{service}:{operation}"
        calls += 1
        for target in line.get("targets") or [""]:
            resource = resource_of(service, target)
            if resource is None:
                errors.append(f"{command} called {op} on {target!r}, a name the e2e suite does "
                              "not make (tests/e2e/lib/common.sh): cannot tell which resource")
                continue
            fits = [i for i, g in enumerate(grants)
                    if g["policy"] in COMMANDS[command] and op in g["operations"]
                    and g["resource"].split("/", 1)[0] == resource
                    and (g["resource"] != "Bucket/" + OFFLOAD_PREFIX + "*"
                         or line.get("key", "").startswith(OFFLOAD_PREFIX))]
            if not fits:
                where = f"{resource} ({target}" + (f", key {line['key']}" if line.get("key") else "") + ")"
                message = (f"{command} called {op} on {where}: no grant of deploy/iam-policy.json "
                           f"for its role allows {iam_action(service, operation)} there")
                if message not in errors:
                    errors.append(message)
            used.update((i, command) for i in fits)
    missing = sorted(t for t in required_tests if t.replace("_", "-") not in ran)
    full = not missing
    if missing:
        notes.append("partial run: the e2e tests " + ", ".join(missing) + " did not run in this "
                     "stack's lifetime, so unused grants are not judged (run the whole e2e suite: "
                     "ctest -R '^(e2e|deploy)\\.')")
    else:
        for i, g in enumerate(grants):
            if not g["operations"]:
                notes.append(f"{g['action']} on {g['resource']}: granted without a salesflow call: "
                             f"{g['why']}")
                continue
            commands = [c for c, policies in COMMANDS.items() if g["policy"] in policies]
            if any((i, c) in used for c in commands):
                continue
            if "when" in g:
                notes.append(f"{g['action']} on {g['resource']} (only when {g['when']}): not "
                             "exercised, the e2e suite runs no worker or function in that mode")
                continue
            errors.append(f"{g['policy']} policy grants {g['action']} on {g['resource']}, which "
                          f"no {' or '.join(commands)} call of the whole e2e suite needed: "
                          "remove it from deploy/iam-policy.json and the templates; or, if an "
                          "e2e test failed in this run, its later calls are missing: fix that "
                          "test first")
    return errors, notes, full, calls


def required_tests(e2e_dir):
    tests = []
    for name in sorted(os.listdir(e2e_dir)):
        if name.endswith(".sh"):
            text = open(os.path.join(e2e_dir, name), encoding="utf-8").read()
            if re.search(r"^\s*start_worker\b|SF_LAMBDA_ARGS", text, re.M):
                tests.append(name[:-3])
    return tests


def selftest(deploy_dir):
    grants = json.load(open(f"{deploy_dir}/iam-policy.json", encoding="utf-8"))["grants"]
    names = {"Bucket": "e2e-t-1-2", "RecordsTable": "e2e-t-1-2-orders",
             "LedgerTable": "e2e-t-1-2-ledger", "NotificationQueue": "e2e-t-1-2-notifications",
             "RecordsDlq": "e2e-t-1-2-dlq"}
    agent = {"processing": "salesflow/1 command/worker", "lambda": "salesflow/1 command/lambda"}
    complete = []
    for g in grants:
        for op in g["operations"]:
            service, operation = op.split(":", 1)
            line = {"service": service, "operation": operation, "agent": agent[g["policy"]],
                    "targets": [names[g["resource"].split("/")[0]]]}
            if g["resource"].endswith(OFFLOAD_PREFIX + "*"):
                line["key"] = OFFLOAD_PREFIX + "x.json"
            complete.append(line)
    cases = []
    errors, _, full, _ = judge(complete, grants, ["t"])
    cases.append(("every grant used", not errors and full, errors))
    ungranted = complete + [{"service": "s3", "operation": "DeleteObject", "targets": [names["Bucket"]],
                             "key": "k", "agent": agent["processing"]}]
    errors, _, _, _ = judge(ungranted, grants, ["t"])
    cases.append(("a call without a grant", any("s3:DeleteObject" in e for e in errors), errors))
    outside = complete + [{"service": "s3", "operation": "PutObject", "targets": [names["Bucket"]],
                           "key": "incoming/x.json", "agent": agent["processing"]}]
    errors, _, _, _ = judge(outside, grants, ["t"])
    cases.append(("PutObject outside the offload prefix", any("key incoming/x.json" in e for e in errors), errors))
    worker_only = [l for l in complete if not (l["operation"] == "GetQueueUrl" and "dlq" in l["targets"][0])]
    errors, _, _, _ = judge(worker_only, grants, ["t"])
    cases.append(("a grant never used", any("sqs:GetQueueUrl on RecordsDlq" in e for e in errors), errors))
    lambda_op_by_worker = complete + [{"service": "sqs", "operation": "SendMessage", "agent": agent["processing"],
                                       "targets": [names["NotificationQueue"]]}]
    errors, _, _, _ = judge(lambda_op_by_worker, grants, ["t"])
    cases.append(("the worker using a lambda-only grant", any(e.startswith("worker called sqs:SendMessage") for e in errors), errors))
    errors, notes, full, _ = judge(worker_only, grants, ["t", "other"])
    cases.append(("a partial run judges no unused grant", not errors and not full, errors))
    failed = 0
    for name, ok, errors in cases:
        print(f"selftest {name}: {'ok' if ok else 'WRONG'}" + ("" if ok else f" ({errors})"))
        failed += not ok
    return 1 if failed else 0


def main():
    if sys.argv[1:2] == ["--selftest"] and len(sys.argv) == 3:
        return selftest(sys.argv[2])
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    log_path, deploy_dir, e2e_dir = sys.argv[1:]
    grants = json.load(open(f"{deploy_dir}/iam-policy.json", encoding="utf-8"))["grants"]
    try:
        with open(log_path, encoding="utf-8") as f:
            lines = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        print(f"least_privilege: no operation log {log_path}: the local AWS stack did not run "
              "with --operation-log (tests/CMakeLists.txt, localaws.start)", file=sys.stderr)
        return 1
    errors, notes, full, calls = judge(lines, grants, required_tests(e2e_dir))
    for n in notes:
        print(f"note: {n}")
    for e in errors:
        print(f"FAIL: {e}", file=sys.stderr)
    if calls == 0 and not errors:
        print("least_privilege: no call of salesflow worker or salesflow lambda in the log "
              f"({len(lines)} calls): no e2e test ran, nothing to judge")
        return 77
    print(f"least_privilege: {calls} calls of salesflow worker and lambda out of {len(lines)}; "
          f"{'full' if full else 'partial'} check; {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
