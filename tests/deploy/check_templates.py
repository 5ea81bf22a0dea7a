#!/usr/bin/env python3
"""Checks what no CloudFormation linter knows about deploy/*.yaml.

  check_templates.py DEPLOY_DIR            the checks; exit 0 when all hold
  check_templates.py DEPLOY_DIR --selftest each check fails on a template
                                           broken for the purpose

The checks: every Ref, GetAtt, Sub variable, FindInMap and Condition resolves;
the notification queue's visibility timeout is at least 6 x the function
timeout for every timeout the template allows; the bucket notification can
never cover the DLQ offload prefix (for every KeyPrefix the template accepts);
the function's settings name the stack's own resources; the roles grant
exactly deploy/iam-policy.json (for each OnConflict, on the stack's bucket and
on an ExistingBucketName), nothing with wildcards, and the ECS task role the
same managed policy, not a copy; with ExistingBucketName no bucket is created
and the queue policy names that bucket; DlqType fifo makes a FIFO DLQ named
.fifo; the ECS task stops later than its --grace-period; every ImportValue
names an export.
"""

import copy
import json
import re
import sys

import yaml

OFFLOAD_PREFIX = "salesflow-dlq-offload"
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName",
          "AWS::StackId", "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}
# Attributes each resource type used here offers to GetAtt.
ATTRIBUTES = {
    "AWS::S3::Bucket": {"Arn", "DomainName", "RegionalDomainName"},
    "AWS::SQS::Queue": {"Arn", "QueueName", "QueueUrl"},
    "AWS::DynamoDB::Table": {"Arn", "StreamArn"},
    "AWS::Logs::LogGroup": {"Arn"},
    "AWS::IAM::Role": {"Arn", "RoleId"},
    "AWS::Lambda::Function": {"Arn"},
    "AWS::ECS::Service": {"Name", "ServiceArn"},
    "AWS::ECS::Cluster": {"Arn"},
    "AWS::SNS::Topic": {"TopicArn", "TopicName"},
}


class Tagged:
    """An intrinsic function written with a YAML tag (!Ref X)."""


def _loader():
    class Loader(yaml.SafeLoader):
        pass

    def construct(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else "Fn::" + suffix
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return Loader


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_loader())


class Checker:
    def __init__(self, name, template):
        self.name = name
        self.t = template
        self.errors = []

    def error(self, message):
        self.errors.append(f"{self.name}: {message}")

    # ------------------------------------------------------------ resolution
    def walk(self, node, where, visit):
        if isinstance(node, dict):
            visit(node, where)
            for k, v in node.items():
                self.walk(v, f"{where}/{k}", visit)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.walk(v, f"{where}[{i}]", visit)

    def check_references(self):
        params = set(self.t.get("Parameters", {}))
        resources = self.t.get("Resources", {})
        conditions = set(self.t.get("Conditions", {}))
        mappings = self.t.get("Mappings", {})
        names = params | set(resources) | PSEUDO

        def getatt(target, attribute, where):
            if target not in resources:
                self.error(f"{where}: GetAtt {target}.{attribute}: no such resource")
                return
            kind = resources[target]["Type"]
            if attribute not in ATTRIBUTES.get(kind, set()):
                self.error(f"{where}: GetAtt {target}.{attribute}: {kind} has no such attribute")

        def visit(node, where):
            if "Ref" in node and len(node) == 1:
                if node["Ref"] not in names:
                    self.error(f"{where}: Ref {node['Ref']}: no such parameter or resource")
            if "Fn::GetAtt" in node:
                target, attribute = node["Fn::GetAtt"]
                getatt(target, attribute, where)
            if "Fn::Sub" in node:
                text, extra = node["Fn::Sub"], {}
                if isinstance(text, list):
                    text, extra = text
                for var in re.findall(r"\$\{([^!}][^}]*)\}", text):
                    if var in extra:
                        continue
                    if "." in var and not var.startswith("AWS::"):
                        getatt(*var.split(".", 1), where)
                    elif var not in names:
                        self.error(f"{where}: Sub ${{{var}}}: no such parameter or resource")
            if "Fn::FindInMap" in node:
                mapping = node["Fn::FindInMap"][0]
                if mapping not in mappings:
                    self.error(f"{where}: FindInMap {mapping}: no such mapping")
            if "Fn::If" in node and node["Fn::If"][0] not in conditions:
                self.error(f"{where}: If {node['Fn::If'][0]}: no such condition")
            if "Condition" in node and isinstance(node["Condition"], str):
                if node["Condition"] not in conditions:
                    self.error(f"{where}: Condition {node['Condition']}: no such condition")

        self.walk({k: v for k, v in self.t.items() if k != "Mappings"}, "", visit)
        for name, resource in resources.items():
            for dep in ([resource["DependsOn"]] if isinstance(resource.get("DependsOn"), str)
                        else resource.get("DependsOn", [])):
                if dep not in resources:
                    self.error(f"{name}: DependsOn {dep}: no such resource")

    # ------------------------------------------------------------ evaluation
    def evaluate(self, node, values):
        """The value of an expression for parameter values `values` (defaults
        filled in); resources stay symbolic as their logical id."""
        params = self.t.get("Parameters", {})
        if isinstance(node, list):
            out = [self.evaluate(v, values) for v in node]
            return [v for v in out if v is not NOVALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return NOVALUE
                if arg in params:
                    return str(values.get(arg, params[arg].get("Default", f"<{arg}>")))
                return arg
            if key == "Fn::GetAtt":
                return arg[0] if arg[1] == "Arn" else f"{arg[0]}.{arg[1]}"
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                given = {} if isinstance(arg, str) else {
                    k: self.evaluate(v, values) for k, v in arg[1].items()}

                def sub(m):
                    var = m.group(1)
                    if var in given:
                        return str(given[var])
                    if var.endswith(".Arn"):
                        return var[:-4]
                    if var in params:
                        return str(values.get(var, params[var].get("Default", f"<{var}>")))
                    return "${" + var + "}"
                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if key == "Fn::If":
                name, yes, no = arg
                return self.evaluate(yes if self.condition(name, values) else no, values)
            if key == "Fn::FindInMap":
                m, top, second = (self.evaluate(a, values) for a in arg)
                return self.t["Mappings"][m][str(top)][second]
        return {k: self.evaluate(v, values) for k, v in node.items()}

    def condition(self, name, values):
        return self.truth(self.t["Conditions"][name], values)

    def truth(self, node, values):
        (key, arg), = node.items()
        if key == "Fn::Equals":
            a, b = (self.evaluate(v, values) for v in arg)
            return str(a) == str(b)
        if key == "Fn::Not":
            return not self.truth(arg[0], values)
        if key == "Fn::And":
            return all(self.truth(v, values) for v in arg)
        if key == "Fn::Or":
            return any(self.truth(v, values) for v in arg)
        if key == "Condition":
            return self.condition(arg, values)
        raise ValueError(f"condition {node}")

    def resource(self, name):
        resource = self.t.get("Resources", {}).get(name)
        if resource is None:
            self.error(f"no resource {name}")
        return resource or {"Type": "", "Properties": {}}

    # ------------------------------------------------------------ policies
    def grants(self, document, values, where):
        """(action, resource) pairs an evaluated policy document allows."""
        pairs = set()
        for statement in self.evaluate(document, values)["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            targets = statement["Resource"]
            targets = [targets] if isinstance(targets, str) else targets
            # An S3 ARN built from a name ("arn:...:s3:::${Name}/...") reads as
            # the name, so that a Ref to Bucket and an existing bucket's name
            # compare alike.
            targets = [re.sub(r"^arn:\$\{AWS::Partition\}:s3:::", "", t) for t in targets]
            for action in actions:
                if "*" in action:
                    self.error(f"{where}: wildcard action {action}")
                for target in targets:
                    if target == "*" or target.endswith(":*") and "LogGroup" not in target:
                        self.error(f"{where}: {action} on wildcard resource {target}")
                    pairs.add((action, target))
        return pairs


NOVALUE = object()
# The bucket name the checks give ExistingBucketName.
EXISTING_BUCKET = "their-bucket"


def expected_grants(policy_source, policy, values):
    pairs = set()
    for grant in policy_source["grants"]:
        if grant["policy"] != policy:
            continue
        if any(values.get(k) != v for k, v in grant.get("when", {}).items()):
            continue
        resource = grant["resource"]
        if values.get("ExistingBucketName"):
            resource = re.sub(r"^Bucket(?=/|$)", values["ExistingBucketName"], resource)
        for name, value in values.items():
            resource = resource.replace("${" + name + "}", str(value))
        pairs.add((grant["action"], resource))
    return pairs


def check_lambda_template(c, policy_source):
    t = c.t
    params = t.get("Parameters", {})
    defaults = {k: v.get("Default") for k, v in params.items() if "Default" in v}
    values = dict(defaults, CodeBucket="code")

    # Visibility >= 6 x timeout, for every timeout the template allows.
    queue = c.resource("NotificationQueue")["Properties"]
    timeouts = params.get("FunctionTimeout", {}).get("AllowedValues")
    if not timeouts:
        c.error("FunctionTimeout has no AllowedValues: the visibility timeout cannot follow it")
        timeouts = []
    for timeout in timeouts:
        try:
            visibility = int(c.evaluate(queue["VisibilityTimeout"],
                                        dict(values, FunctionTimeout=timeout, Compute="lambda")))
        except KeyError as missing:
            c.error(f"FunctionTimeout {timeout}: no visibility timeout for it ({missing})")
            continue
        if visibility < 6 * int(timeout):
            c.error(f"FunctionTimeout {timeout}: notification queue visibility {visibility} s "
                    f"is below 6 x the function timeout ({6 * int(timeout)} s)")
        if visibility > 43200:
            c.error(f"FunctionTimeout {timeout}: visibility {visibility} s is over SQS's 43200")
    function = c.resource("Function")["Properties"]
    if function.get("Timeout") != {"Ref": "FunctionTimeout"}:
        c.error("Function.Timeout is not the FunctionTimeout parameter")
    redrive = c.evaluate(queue.get("RedrivePolicy", {}), values)
    if redrive.get("deadLetterTargetArn") != "PoisonQueue":
        c.error("the notification queue does not redrive to PoisonQueue")
    dlq = c.resource("RecordsDlq")["Properties"]
    if dlq.get("MaximumMessageSize") != 1048576:
        c.error("RecordsDlq.MaximumMessageSize is not 1 MiB")

    # The notification never covers the offload prefix, for any accepted KeyPrefix.
    bucket = c.resource("Bucket")
    configs = bucket["Properties"].get("NotificationConfiguration", {}).get("QueueConfigurations", [])
    if len(configs) != 1:
        c.error(f"the bucket has {len(configs)} queue notifications, want 1")
    for config in configs:
        if c.evaluate(config["Queue"], values) != "NotificationQueue":
            c.error("the bucket notification does not go to NotificationQueue")
        rules = c.evaluate(config.get("Filter", {}).get("S3Key", {}).get("Rules", []), values)
        prefixes = [r for r in rules if r.get("Name") == "prefix"]
        if not prefixes or config["Filter"]["S3Key"]["Rules"][0].get("Value") != {"Ref": "KeyPrefix"}:
            c.error("the notification's prefix rule is not the KeyPrefix parameter")
    key_prefix = params.get("KeyPrefix", {})
    pattern = key_prefix.get("AllowedPattern")
    if not pattern:
        c.error("KeyPrefix has no AllowedPattern: an empty or overlapping prefix would notify "
                "the DLQ offload objects")
    else:
        offload_key = OFFLOAD_PREFIX + "/0123-abcd.json"
        for end in range(0, len(offload_key) + 1):
            candidate = offload_key[:end]
            if re.fullmatch(pattern, candidate):
                c.error(f"KeyPrefix {candidate!r} is accepted, and the offload key "
                        f"{offload_key} starts with it")
        if not re.fullmatch(pattern, key_prefix.get("Default", "")):
            c.error(f"KeyPrefix default {key_prefix.get('Default')!r} fails its own pattern")
    if "DependsOn" not in bucket or "NotificationQueuePolicy" not in (
            [bucket["DependsOn"]] if isinstance(bucket["DependsOn"], str) else bucket["DependsOn"]):
        c.error("Bucket does not DependsOn NotificationQueuePolicy")
    def refers_to_bucket(node, where):
        text = json.dumps(node)
        if (node.get("Ref") == "Bucket" or node.get("Fn::GetAtt", [None])[0] == "Bucket"
                or re.search(r"\$\{Bucket[.}]", text) and "Fn::Sub" in node):
            c.error(f"NotificationQueuePolicy{where} refers to Bucket, which depends on it: "
                    "a circular dependency")
    c.walk(c.resource("NotificationQueuePolicy")["Properties"], "", refers_to_bucket)
    for existing in ("", EXISTING_BUCKET):
        v = dict(values, ExistingBucketName=existing)
        bucket_name = existing or c.evaluate(bucket["Properties"].get("BucketName"), v)
        policy_text = json.dumps(c.evaluate(c.resource("NotificationQueuePolicy")["Properties"], v))
        if f"arn:${{AWS::Partition}}:s3:::{bucket_name}" not in policy_text:
            c.error(f"NotificationQueuePolicy does not name the bucket {bucket_name} as its source")
        # With an existing bucket the stack must create no bucket and set no
        # bucket policy: the bucket has an owner already.
        for name, resource in t.get("Resources", {}).items():
            if not resource.get("Type", "").startswith("AWS::S3::Bucket"):
                continue
            made = c.condition(resource["Condition"], v) if "Condition" in resource else True
            if made == bool(existing):
                c.error(f"ExistingBucketName={existing!r}: {name} is "
                        f"{'created' if made else 'not created'}")

    # DlqType fifo: a FIFO queue (its name ends in .fifo, which the function
    # reads as FIFO); standard: none of the FIFO properties.
    for dlq_type in params.get("DlqType", {}).get("AllowedValues", []):
        queue_properties = c.evaluate(dlq, dict(values, DlqType=dlq_type))
        fifo = queue_properties.get("FifoQueue") is True
        named = str(queue_properties.get("QueueName", "")).endswith(".fifo")
        if (dlq_type == "fifo") != fifo or fifo != named:
            c.error(f"DlqType={dlq_type}: FifoQueue {queue_properties.get('FifoQueue')!r}, "
                    f"QueueName {queue_properties.get('QueueName')!r}")
    if "DlqType" not in params:
        c.error("no DlqType parameter: the records DLQ cannot be a FIFO queue")

    # The offload location the function writes is the one the lifecycle rule,
    # the policy and the exclusion above speak of.
    for existing in ("", EXISTING_BUCKET):
        env = c.evaluate(function.get("Environment", {}).get("Variables", {}),
                         dict(values, ExistingBucketName=existing))
        input_bucket = existing or "Bucket"
        want_env = {"SALESFLOW_BUCKET": input_bucket, "SALESFLOW_TABLE": "RecordsTable",
                    "SALESFLOW_LEDGER_TABLE": "LedgerTable",
                    "SALESFLOW_DLQ": "RecordsDlq.QueueName",
                    "SALESFLOW_OFFLOAD_BUCKET": input_bucket,
                    "SALESFLOW_OFFLOAD_PREFIX": OFFLOAD_PREFIX}
        for name, want in want_env.items():
            if env.get(name) != want:
                c.error(f"ExistingBucketName={existing!r}: Function env {name} is "
                        f"{env.get(name)!r}, want {want!r}")
    for name in env:
        if not name.startswith("SALESFLOW_"):
            c.error(f"Function env {name}: not a salesflow setting")
    rules = c.evaluate(bucket["Properties"].get("LifecycleConfiguration", {}), values).get("Rules", [])
    if not any(r.get("Prefix") == OFFLOAD_PREFIX + "/" for r in rules):
        c.error(f"no lifecycle rule expires {OFFLOAD_PREFIX}/")
    mapping = c.resource("EventSourceMapping")["Properties"]
    if "ReportBatchItemFailures" not in mapping.get("FunctionResponseTypes", []):
        c.error("the event source mapping does not use ReportBatchItemFailures")
    if c.evaluate(mapping.get("EventSourceArn"), values) != "NotificationQueue":
        c.error("the event source mapping does not read NotificationQueue")

    # Policies: exactly deploy/iam-policy.json, for each OnConflict.
    role = c.resource("FunctionRole")["Properties"]
    if role.get("ManagedPolicyArns") != [{"Ref": "ProcessingPolicy"}]:
        c.error("FunctionRole does not attach exactly ProcessingPolicy")
    for on_conflict, existing in [(o, e) for o in params.get("OnConflict", {}).get("AllowedValues", [])
                                  for e in ("", EXISTING_BUCKET)]:
        v = dict(values, OnConflict=on_conflict, ExistingBucketName=existing)
        processing = c.grants(c.resource("ProcessingPolicy")["Properties"]["PolicyDocument"], v,
                              "ProcessingPolicy")
        inline = set()
        for p in role.get("Policies", []):
            inline |= c.grants(p["PolicyDocument"], v, "FunctionRole")
        for policy, got in (("processing", processing), ("lambda", inline)):
            want = expected_grants(policy_source, policy, v)
            for action, target in sorted(got - want):
                c.error(f"OnConflict={on_conflict} ExistingBucketName={existing!r}: policy {policy} grants {action} on {target}, "
                        "which deploy/iam-policy.json does not list")
            for action, target in sorted(want - got):
                c.error(f"OnConflict={on_conflict} ExistingBucketName={existing!r}: policy {policy} lacks {action} on {target} "
                        "(deploy/iam-policy.json)")
    exports = {}
    for name, output in t.get("Outputs", {}).items():
        if "Export" in output:
            exports[c.evaluate(output["Export"]["Name"], {"AWS::StackName": "X"})] = name
    return exports


def check_ecs_template(c, exports):
    role = c.resource("TaskRole")["Properties"]
    want = [{"Fn::ImportValue": {"Fn::Sub": "${DataStackName}-ProcessingPolicyArn"}}]
    if role.get("ManagedPolicyArns") != want or role.get("Policies"):
        c.error("TaskRole must carry the data stack's ProcessingPolicy and nothing else")

    def visit(node, where):
        if "Fn::ImportValue" in node:
            name = node["Fn::ImportValue"].get("Fn::Sub", "")
            if not name.startswith("${DataStackName}-"):
                c.error(f"{where}: ImportValue {name} is not one of the data stack's exports")
            elif "${AWS::StackName}-" + name[len("${DataStackName}-"):] not in exports:
                c.error(f"{where}: ImportValue {name}: deploy/salesflow.yaml exports no such name")
    c.walk(c.t.get("Resources", {}), "Resources", visit)

    container = c.resource("TaskDefinition")["Properties"]["ContainerDefinitions"][0]
    command = container.get("Command", [])
    stop = container.get("StopTimeout")
    if command[:1] != ["worker"]:
        c.error(f"the container runs {command}, not salesflow worker")
    if "--grace-period" not in command:
        c.error("the worker has no --grace-period: its default must stay below StopTimeout")
    else:
        grace = int(command[command.index("--grace-period") + 1])
        if stop is None or grace >= int(stop):
            c.error(f"--grace-period {grace} is not below StopTimeout {stop}: SIGKILL could "
                    "come before the checkpoint")
    env = {e["Name"]: e["Value"] for e in container.get("Environment", [])}
    for name in ("SALESFLOW_NOTIFICATION_QUEUE", "SALESFLOW_DLQ", "SALESFLOW_TABLE",
                 "SALESFLOW_LEDGER_TABLE", "SALESFLOW_OFFLOAD_BUCKET"):
        if name not in env:
            c.error(f"the worker lacks {name}")
    if env.get("SALESFLOW_OFFLOAD_PREFIX") != OFFLOAD_PREFIX:
        c.error(f"the worker's SALESFLOW_OFFLOAD_PREFIX is not {OFFLOAD_PREFIX}")
    scaling = json.dumps(c.resource("BacklogPerTaskScaling")["Properties"])
    for needed in ("ApproximateNumberOfMessagesVisible", "RunningTaskCount", "TargetTrackingScaling"):
        if needed not in scaling:
            c.error(f"the scaling policy does not use {needed}")


def run(deploy_dir, templates=None):
    policy_source = json.load(open(f"{deploy_dir}/iam-policy.json", encoding="utf-8"))
    templates = templates or {n: load(f"{deploy_dir}/{n}")
                              for n in ("salesflow.yaml", "salesflow-ecs.yaml")}
    errors = []
    lam = Checker("salesflow.yaml", templates["salesflow.yaml"])
    ecs = Checker("salesflow-ecs.yaml", templates["salesflow-ecs.yaml"])
    for c in (lam, ecs):
        c.check_references()
    try:
        exports = check_lambda_template(lam, policy_source)
        check_ecs_template(ecs, exports)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        errors.append(f"unexpected template structure: {type(e).__name__}: {e}")
    return errors + lam.errors + ecs.errors


# Each mutation breaks one property; the checks must notice every one.
def _mutations():
    def res(t, name):
        return t["Resources"][name]["Properties"]

    def set_timeouts(t):
        t["Mappings"]["Visibility"]["900"]["Seconds"] = 5399

    def timeout_unmapped(t):
        t["Parameters"]["FunctionTimeout"]["AllowedValues"].append(30)

    def empty_prefix(t):
        t["Parameters"]["KeyPrefix"]["AllowedPattern"] = "^.*$"

    def prefix_s(t):
        t["Parameters"]["KeyPrefix"]["AllowedPattern"] = "^[^/]*$"

    def extra_action(t):
        res(t, "ProcessingPolicy")["PolicyDocument"]["Statement"][0]["Action"] = [
            "s3:GetObject", "s3:DeleteObject"]

    def missing_action(t):
        statements = res(t, "ProcessingPolicy")["PolicyDocument"]["Statement"]
        t["Resources"]["ProcessingPolicy"]["Properties"]["PolicyDocument"]["Statement"] = [
            s for s in statements if s.get("Sid") != "Ledger"]

    def wide_put(t):
        for s in res(t, "ProcessingPolicy")["PolicyDocument"]["Statement"]:
            if s.get("Sid") == "OffloadEnvelopes":
                s["Resource"] = {"Fn::Sub": "${Bucket.Arn}/*"}

    def bad_ref(t):
        res(t, "Function")["Environment"]["Variables"]["SALESFLOW_TABLE"] = {"Ref": "RecordTable"}

    def bad_getatt(t):
        res(t, "EventSourceMapping")["EventSourceArn"] = {"Fn::GetAtt": ["NotificationQueue", "Url"]}

    def bad_sub(t):
        res(t, "BucketPolicy")["PolicyDocument"]["Statement"][0]["Resource"][1] = {
            "Fn::Sub": "${Bukcet.Arn}/*"}

    def no_report(t):
        res(t, "EventSourceMapping")["FunctionResponseTypes"] = []

    def offload_elsewhere(t):
        res(t, "Function")["Environment"]["Variables"]["SALESFLOW_OFFLOAD_PREFIX"] = "dlq"

    def cyclic(t):
        res(t, "NotificationQueuePolicy")["PolicyDocument"]["Statement"][0]["Condition"][
            "ArnEquals"]["aws:SourceArn"] = {"Fn::GetAtt": ["Bucket", "Arn"]}

    def ecs_copy(t):
        res(t, "TaskRole")["Policies"] = [{"PolicyName": "copy", "PolicyDocument": {}}]

    def ecs_grace(t):
        res(t, "TaskDefinition")["ContainerDefinitions"][0]["Command"] = [
            "worker", "--grace-period", "120"]

    def ecs_import(t):
        res(t, "TaskDefinition")["ContainerDefinitions"][0]["Environment"][1]["Value"] = {
            "Fn::ImportValue": {"Fn::Sub": "${DataStackName}-QueueName"}}

    def bucket_always(t):
        del t["Resources"]["Bucket"]["Condition"]

    def fifo_unnamed(t):
        res(t, "RecordsDlq")["QueueName"] = {"Ref": "AWS::NoValue"}

    def input_is_stack_bucket(t):
        res(t, "Function")["Environment"]["Variables"]["SALESFLOW_BUCKET"] = {"Ref": "Bucket"}

    return [
        ("salesflow.yaml", bucket_always, "ExistingBucketName='their-bucket': Bucket is created"),
        ("salesflow.yaml", fifo_unnamed, "DlqType=fifo: FifoQueue True, QueueName"),
        ("salesflow.yaml", input_is_stack_bucket,
         "ExistingBucketName='their-bucket': Function env SALESFLOW_BUCKET is 'Bucket'"),
        ("salesflow.yaml", set_timeouts, "below 6 x the function timeout"),
        ("salesflow.yaml", timeout_unmapped, "FunctionTimeout 30: no visibility timeout"),
        ("salesflow.yaml", empty_prefix, "KeyPrefix '' is accepted"),
        ("salesflow.yaml", prefix_s, "KeyPrefix 's' is accepted"),
        ("salesflow.yaml", extra_action, "grants s3:DeleteObject on Bucket/incoming/*"),
        ("salesflow.yaml", missing_action, "lacks dynamodb:GetItem on LedgerTable"),
        ("salesflow.yaml", wide_put, "grants s3:PutObject on Bucket/*"),
        ("salesflow.yaml", bad_ref, "Ref RecordTable: no such"),
        ("salesflow.yaml", bad_getatt, "GetAtt NotificationQueue.Url"),
        ("salesflow.yaml", bad_sub, "GetAtt Bukcet.Arn: no such resource"),
        ("salesflow.yaml", no_report, "ReportBatchItemFailures"),
        ("salesflow.yaml", offload_elsewhere, "SALESFLOW_OFFLOAD_PREFIX is 'dlq'"),
        ("salesflow.yaml", cyclic, "circular dependency"),
        ("salesflow-ecs.yaml", ecs_copy, "TaskRole must carry"),
        ("salesflow-ecs.yaml", ecs_grace, "--grace-period 120 is not below StopTimeout 120"),
        ("salesflow-ecs.yaml", ecs_import, "exports no such name"),
    ]


def selftest(deploy_dir):
    pristine = {n: load(f"{deploy_dir}/{n}") for n in ("salesflow.yaml", "salesflow-ecs.yaml")}
    failures = 0
    for name, mutate, expected in _mutations():
        templates = copy.deepcopy(pristine)
        mutate(templates[name])
        errors = run(deploy_dir, templates)
        caught = [e for e in errors if expected in e]
        if caught:
            print(f"selftest {mutate.__name__}: caught: {caught[0]}")
        else:
            print(f"selftest {mutate.__name__}: NOT caught (want {expected!r}; got {errors})",
                  file=sys.stderr)
            failures += 1
    return failures


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    deploy_dir = sys.argv[1]
    if sys.argv[2:] == ["--selftest"]:
        failures = selftest(deploy_dir)
        print(f"selftest: {len(_mutations()) - failures} of {len(_mutations())} broken templates caught")
        return 1 if failures else 0
    errors = run(deploy_dir)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"check_templates: {len(errors)} problems in {deploy_dir}/salesflow.yaml, salesflow-ecs.yaml")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
