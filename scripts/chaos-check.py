#!/usr/bin/env python3
"""The exact check after a chaos run: compares the table and the DLQ with the
files that were uploaded, record by record, and prints the figures as JSON.

  chaos-check.py --bucket B --manifest M --scan SCAN --dlq DLQ [--figures OUT]

MANIFEST: JSON key -> {"file": path of the uploaded file, "format":
jsonl|array|wrapped, "gzip": bool}. A record is complete exactly when it has
"contact-info" (tests/e2e/lib/gen.py writes them so). SCAN: `aws dynamodb scan`
output of the whole table. DLQ: JSON Lines of SQS messages (drain-queue.mjs).

Checked: every complete record is one item with its record's content, source
and index; every incomplete record has at least one envelope; nothing else is
in the table or the DLQ. Exit status 1 when a record is lost, an item is wrong
or unexpected, or a record is in both; repeated envelopes (the same id more
than once) are counted, and fail only with --no-repeated-envelopes.
"""
import argparse
import gzip
import json
import sys
from collections import Counter, defaultdict

METADATA = {"_source", "_etag", "_version_id", "_record_index", "_ingested_at"}


def plain(value):
    """DynamoDB JSON -> the JSON value it encodes (numbers as their text)."""
    (kind, inner), = value.items()
    if kind == "M":
        return {k: plain(v) for k, v in inner.items()}
    if kind == "L":
        return [plain(v) for v in inner]
    if kind in ("S", "N"):
        return inner
    if kind == "BOOL":
        return inner
    if kind == "NULL":
        return None
    raise ValueError(f"unexpected attribute type {kind}")


def records_of(entry):
    with open(entry["file"], "rb") as f:
        data = f.read()
    if entry.get("gzip"):
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if entry["format"] == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if entry["format"] == "array":
        return json.loads(text)
    return json.loads(text)["orders"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--scan", required=True)
    parser.add_argument("--dlq", required=True)
    parser.add_argument("--figures")
    parser.add_argument("--no-repeated-envelopes", action="store_true")
    args = parser.parse_args()

    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    want_items = {}  # (source, index) -> record
    want_rejects = set()  # (source, index)
    for key, entry in manifest.items():
        source = f"s3://{args.bucket}/{key}"
        for index, record in enumerate(records_of(entry)):
            if "contact-info" in record:
                want_items[(source, index)] = record
            else:
                want_rejects.add((source, index))

    with open(args.scan, encoding="utf-8") as f:
        scan = json.load(f)
    seen_items = Counter()
    wrong_items = []
    unexpected_items = []
    for item in scan.get("Items", []):
        at = (item.get("_source", {}).get("S"), int(item.get("_record_index", {}).get("N", "-1")))
        seen_items[at] += 1
        record = want_items.get(at)
        if record is None:
            unexpected_items.append(at)
            continue
        content = {k: plain(v) for k, v in item.items() if k not in METADATA and k != "OrderId"}
        if content != record or item["OrderId"]["S"] != record["order-info"]["OrderId"]:
            wrong_items.append(at)

    envelopes = Counter()  # id -> deliveries
    rejects_seen = defaultdict(set)  # (source, index) -> ids
    unexpected_envelopes = []
    with open(args.dlq, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            body = json.loads(json.loads(line)["Body"])
            envelopes[body["id"]] += 1
            if body.get("kind") != "record":
                unexpected_envelopes.append(body["id"])
                continue
            at = (f"s3://{body['source']['bucket']}/{body['source']['key']}", body["record"]["index"])
            if at not in want_rejects:
                unexpected_envelopes.append(body["id"])
                continue
            rejects_seen[at].add(body["id"])

    items_missing = sum(1 for at in want_items if seen_items[at] == 0)
    rejects_missing = sum(1 for at in want_rejects if at not in rejects_seen)
    figures = {
        "objects": len(manifest),
        "records": len(want_items) + len(want_rejects),
        "items_expected": len(want_items),
        "items_found": sum(1 for at in want_items if seen_items[at] > 0),
        "items_missing": items_missing,
        "items_wrong_content": len(wrong_items),
        "items_unexpected": len(unexpected_items),
        "items_written_twice": sum(n - 1 for n in seen_items.values() if n > 1),
        "rejects_expected": len(want_rejects),
        "rejects_found": len(rejects_seen),
        "rejects_missing": rejects_missing,
        "rejects_with_two_ids": sum(1 for ids in rejects_seen.values() if len(ids) > 1),
        "envelopes": sum(envelopes.values()),
        "envelope_ids": len(envelopes),
        "envelopes_repeated": sum(n - 1 for n in envelopes.values() if n > 1),
        "ids_repeated": sum(1 for n in envelopes.values() if n > 1),
        "envelopes_unexpected": len(unexpected_envelopes),
        "records_lost": items_missing + rejects_missing,
    }
    text = json.dumps(figures, indent=1)
    print(text)
    if args.figures:
        with open(args.figures, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    problems = [name for name in ("records_lost", "items_wrong_content", "items_unexpected",
                                  "items_written_twice", "rejects_with_two_ids",
                                  "envelopes_unexpected") if figures[name]]
    if args.no_repeated_envelopes and figures["envelopes_repeated"]:
        problems.append("envelopes_repeated")
    for at in (wrong_items + unexpected_items)[:5]:
        print(f"example: item {at[0]} #{at[1]}", file=sys.stderr)
    if problems:
        print(f"chaos-check: FAILED: {', '.join(problems)}", file=sys.stderr)
        sys.exit(1)
    print("chaos-check: every record exactly once in the table or the DLQ", file=sys.stderr)


if __name__ == "__main__":
    main()
