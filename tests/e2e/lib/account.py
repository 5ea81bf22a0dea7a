#!/usr/bin/env python3
"""The accounting invariant of the end-to-end tests, computed from what the
table and the DLQ hold (read with tools independent of salesflow).

For every expected object s3://BUCKET/KEY with {records, valid, rejected}:
  items in the table from it            == valid
  distinct _record_index among them     == items        (no record twice)
  distinct DLQ envelope ids from it     == rejected
  envelopes from it                     == distinct ids (unless
                                           --allow-repeated-envelopes: a crash
                                           may repeat, never lose, an envelope)
  items + distinct envelopes + duplicates == records    (duplicates: from the
                                           worker logs when given, else 0)
  no record index both in the table and in a record envelope
and nothing in the table or the DLQ comes from an object not expected.
Prints one "ok: ..." line per passed check; exits 1 at the first failure.
"""
import argparse
import json
import sys
from collections import defaultdict


def fail(text):
    print(f"FAIL: {text}")
    sys.exit(1)


def ok(text):
    print(f"ok: {text}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--expected", required=True, help="JSON file: key -> counts")
    parser.add_argument("--scan", required=True, help="aws dynamodb scan output")
    parser.add_argument("--dlq", required=True, help="JSON Lines of SQS messages")
    parser.add_argument("--log", action="append", default=[], help="worker/process log")
    parser.add_argument("--allow-repeated-envelopes", action="store_true")
    args = parser.parse_args()

    with open(args.expected, encoding="utf-8") as f:
        expected = json.load(f)
    sources = {f"s3://{args.bucket}/{key}": key for key in expected}

    with open(args.scan, encoding="utf-8") as f:
        scan = json.load(f)
    items = defaultdict(list)
    for item in scan.get("Items", []):
        source = item.get("_source", {}).get("S")
        index = item.get("_record_index", {}).get("N")
        if source is None or index is None:
            fail(f"table item without _source/_record_index: {item}")
        items[source].append(int(index))

    envelopes = defaultdict(list)  # source -> [(id, record index or None)]
    with open(args.dlq, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            message = json.loads(line)
            try:
                body = json.loads(message["Body"])
            except json.JSONDecodeError:
                fail(f"DLQ message {message.get('MessageId')} is not JSON: {message['Body'][:200]}")
            if body.get("schema") != "salesflow.dlq/1":
                fail(f"DLQ message {message.get('MessageId')} is not an envelope: {line[:200]}")
            source = f"s3://{body['source']['bucket']}/{body['source']['key']}"
            index = body["record"]["index"] if body.get("kind") == "record" else None
            envelopes[source].append((body["id"], index))

    duplicates = {}
    for path in args.log:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if entry.get("msg") == "object finished" and entry.get("status") == "completed":
                    duplicates[entry["key"]] = entry["duplicates"]

    for source in sorted(set(items) | set(envelopes)):
        if source not in sources:
            fail(f"{len(items.get(source, []))} items and {len(envelopes.get(source, []))} "
                 f"envelopes from an object not uploaded: {source}")
    ok("nothing in the table or the DLQ from an unexpected object")

    for source, key in sorted(sources.items()):
        want = expected[key]
        indexes = items.get(source, [])
        ids = [envelope_id for envelope_id, _ in envelopes.get(source, [])]
        distinct_ids = set(ids)
        want_duplicates = want["records"] - want["valid"] - want["rejected"]
        dup = duplicates.get(key, want_duplicates) if args.log else want_duplicates
        if len(indexes) != want["valid"]:
            fail(f"{key}: {len(indexes)} items in the table, expected {want['valid']}")
        if len(set(indexes)) != len(indexes):
            fail(f"{key}: {len(indexes) - len(set(indexes))} record indexes twice in the table")
        if len(distinct_ids) != want["rejected"]:
            fail(f"{key}: {len(distinct_ids)} distinct DLQ envelopes, expected {want['rejected']}")
        if len(ids) != len(distinct_ids) and not args.allow_repeated_envelopes:
            fail(f"{key}: {len(ids) - len(distinct_ids)} DLQ envelopes delivered twice")
        if dup != want_duplicates:
            fail(f"{key}: the log counts {dup} duplicates, expected {want_duplicates}")
        if len(indexes) + len(distinct_ids) + dup != want["records"]:
            fail(f"{key}: {len(indexes)} items + {len(distinct_ids)} envelopes + {dup} duplicates"
                 f" != {want['records']} records")
        both = set(indexes) & {i for _, i in envelopes.get(source, []) if i is not None}
        if both:
            fail(f"{key}: records both in the table and the DLQ: {sorted(both)[:10]}")
        repeated = len(ids) - len(distinct_ids)
        ok(f"{key}: {want['records']} records = {len(indexes)} items + {len(distinct_ids)} "
           f"envelopes + {dup} duplicates" + (f" ({repeated} envelopes repeated)" if repeated else ""))


if __name__ == "__main__":
    main()
