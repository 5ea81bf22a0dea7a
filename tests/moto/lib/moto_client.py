#!/usr/bin/env python3
"""The moto tests' independent AWS client: boto3 against one moto_server.

  moto_client.py users ENDPOINT ACCOUNT RESOURCES_JSON OUT_JSON
      Creates an admin user (every action) and a worker user with only what
      the worker needs on RESOURCES_JSON's names, and an access key for each;
      writes {"admin": {...}, "worker": {...}} to OUT_JSON. Exactly
      SETUP_ACTIONS calls, so moto can start enforcing IAM right after them.
  moto_client.py expect-denied ENDPOINT RESOURCES_JSON KEYS_JSON
      Proves that moto enforces signatures and policies: a wrong secret is
      refused as SignatureDoesNotMatch, the worker may not delete the table,
      read the DLQ or write outside the offload prefix.
  moto_client.py upload ENDPOINT BUCKET DIR         every file under DIR, its relative path as key
  moto_client.py scan ENDPOINT TABLE OUT            the table (_source, _record_index) as scan JSON
  moto_client.py drain ENDPOINT QUEUE OUT           every message of QUEUE as JSON Lines, not deleted
  moto_client.py depth ENDPOINT QUEUE               visible + in flight + delayed messages
  moto_client.py get-item ENDPOINT TABLE ORDER_ID   one item as DynamoDB JSON
  moto_client.py event-keys ENDPOINT QUEUE          the raw (encoded) keys of the S3 events in
                                                    QUEUE, sorted; the messages stay visible
All but `users` use the credentials of the environment (the admin's).
"""
import json
import sys
from pathlib import Path

try:
    import boto3
    from botocore.exceptions import ClientError
except ImportError:
    print("moto tests need boto3 in the python3 on PATH (pip package boto3, installed with moto)",
          file=sys.stderr)
    sys.exit(2)

SETUP_ACTIONS = 6
REGION = "us-east-1"


def client(service, endpoint, **keys):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **keys)


def worker_policy(account, r):
    """What README's "Running against real AWS" lists, on these resources only."""
    bucket = f"arn:aws:s3:::{r['bucket']}"
    tables = [f"arn:aws:dynamodb:{REGION}:{account}:table/{r[t]}" for t in ("table", "ledger")]
    queue = lambda name: f"arn:aws:sqs:{REGION}:{account}:{name}"
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{bucket}/*"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket]},
        # Oversize envelopes go to the offload bucket (<bucket>-dlq-offload), its prefix only.
        {"Effect": "Allow", "Action": ["s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{r['bucket']}-dlq-offload/{r['offload_prefix']}/*"]},
        # moto checks DynamoDB actions against "*", not the table's ARN: the
        # table ARNs are what AWS checks, "*" what lets moto allow them.
        {"Effect": "Allow", "Resource": tables + ["*"], "Action": [
            "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
            "dynamodb:GetItem"]},
        # AWS authorizes the batch calls by their single action (SendMessage for
        # SendMessageBatch); moto wants the batch action itself.
        {"Effect": "Allow", "Resource": [queue(r["notification_queue"])], "Action": [
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:DeleteMessageBatch",
            "sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch"]},
        {"Effect": "Allow", "Resource": [queue(r["dlq"])],
         "Action": ["sqs:SendMessage", "sqs:SendMessageBatch"]},
        # AWS authorizes GetQueueUrl on the queue's ARN; moto on "*" (it looks
        # for a QueueUrl parameter, which GetQueueUrl does not have).
        {"Effect": "Allow", "Resource": "*", "Action": ["sqs:GetQueueUrl"]},
    ]}


def users(endpoint, account, resources_path, out_path):
    r = json.loads(Path(resources_path).read_text())
    iam = client("iam", endpoint, aws_access_key_id="setup", aws_secret_access_key="setup")
    admin_policy = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    keys = {}
    for name, policy in (("admin", admin_policy), ("worker", worker_policy(account, r))):
        user = f"salesflow-{name}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName=f"{user}-policy",
                            PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[name] = {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    Path(out_path).write_text(json.dumps(keys))


def expect_code(what, codes, call):
    try:
        call()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # moto answers auth errors of JSON-protocol services (DynamoDB) in the
        # XML of the query protocol, so botocore sees only the status as code.
        body = error.response["Error"].get("Message", "")
        code = next((c for c in codes if c == code or f"<Code>{c}</Code>" in body), code)
        if code not in codes:
            sys.exit(f"FAIL: {what}: refused with {code} ({body[:300]}), expected one of {codes}")
        print(f"ok: {what} refused ({code})")
        return
    sys.exit(f"FAIL: {what} was allowed: moto does not enforce IAM")


def expect_denied(endpoint, resources_path, keys_path):
    r = json.loads(Path(resources_path).read_text())
    keys = json.loads(Path(keys_path).read_text())
    worker = {"aws_access_key_id": keys["worker"]["id"],
              "aws_secret_access_key": keys["worker"]["secret"]}
    forged = {"aws_access_key_id": keys["worker"]["id"], "aws_secret_access_key": "not-the-secret"}
    expect_code("a request signed with a wrong secret", {"SignatureDoesNotMatch"},
                lambda: client("dynamodb", endpoint, **forged).get_item(
                    TableName=r["table"], Key={"OrderId": {"S": "x"}}))
    expect_code("the worker deleting the table", {"AccessDeniedException", "AccessDenied"},
                lambda: client("dynamodb", endpoint, **worker).delete_table(TableName=r["table"]))
    sqs = client("sqs", endpoint, **worker)
    dlq_url = client("sqs", endpoint).get_queue_url(QueueName=r["dlq"])["QueueUrl"]
    expect_code("the worker reading the DLQ", {"AccessDenied", "AccessDeniedException"},
                lambda: sqs.receive_message(QueueUrl=dlq_url))
    expect_code("the worker writing outside the offload prefix", {"AccessDenied"},
                lambda: client("s3", endpoint, **worker).put_object(
                    Bucket=r["bucket"], Key="not-offload/x.json", Body=b"{}"))


def upload(endpoint, bucket, directory):
    s3 = client("s3", endpoint)
    root = Path(directory)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, str(path.relative_to(root)))


def scan(endpoint, table, out_path):
    ddb = client("dynamodb", endpoint)
    items = []
    for page in ddb.get_paginator("scan").paginate(
            TableName=table, ConsistentRead=True, ProjectionExpression="#s, #i",
            ExpressionAttributeNames={"#s": "_source", "#i": "_record_index"}):
        items.extend(page["Items"])
    Path(out_path).write_text(json.dumps({"Items": items, "Count": len(items)}))


def drain(endpoint, queue, out_path):
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    empty = 0  # moto has no sampling: an empty short poll means an empty queue
    with open(out_path, "w", encoding="utf-8") as out:
        while empty < 2:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                      VisibilityTimeout=600, WaitTimeSeconds=0,
                                      AttributeNames=["All"]).get("Messages", [])
            empty = 0 if got else empty + 1
            for message in got:
                out.write(json.dumps(message, ensure_ascii=False) + "\n")


def depth(endpoint, queue):
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    print(sum(int(a.get(n, "0")) for n in ("ApproximateNumberOfMessages",
                                           "ApproximateNumberOfMessagesNotVisible",
                                           "ApproximateNumberOfMessagesDelayed")))


def get_item(endpoint, table, order_id):
    item = client("dynamodb", endpoint).get_item(
        TableName=table, Key={"OrderId": {"S": order_id}}, ConsistentRead=True)
    print(json.dumps(item.get("Item", {}), ensure_ascii=False))


def event_keys(endpoint, queue):
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    keys = set()
    held = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=60).get("Messages", []):
            held.append(message["ReceiptHandle"])
            for record in json.loads(message["Body"]).get("Records", []):
                keys.add(record["s3"]["object"]["key"])
    # Visible again at once: with a VisibilityTimeout of 0 in ReceiveMessage
    # itself, moto 5.2 kept them hidden for the queue's default.
    for handle in held:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    print(json.dumps(sorted(keys), ensure_ascii=False, separators=(",", ":")))


COMMANDS = {"users": users, "expect-denied": expect_denied, "upload": upload, "scan": scan,
            "drain": drain, "depth": depth, "get-item": get_item,
            "event-keys": event_keys}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
