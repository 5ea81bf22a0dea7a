#!/usr/bin/env python3
"""Writes a sales-data file with a known number of complete and incomplete
records and prints its counts as JSON: {"records", "valid", "rejected"}.

Record i (0-based) lacks its contact-info (incomplete) when
i % reject_every == reject_every - 1; every OrderId is unique (PREFIX-i).
  gen.py OUT COUNT [--reject-every K] [--prefix P] [--format jsonl|array|wrapped] [--gzip]
"""
import argparse
import gzip
import json


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("count", type=int)
    parser.add_argument("--reject-every", type=int, default=10)
    parser.add_argument("--prefix", default="GEN")
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "array", "wrapped"])
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()

    rows = []
    rejected = 0
    for i in range(args.count):
        record = {"order-info": {"OrderId": f"{args.prefix}-{i:08d}", "item-id": f"IT-{i % 9973}",
                                 "qty": str(1 + i % 50)},
                  "contact-info": {"name": f"Customer {i}", "email": f"c{i}@example.com"}}
        if i % args.reject_every == args.reject_every - 1:
            del record["contact-info"]
            rejected += 1
        rows.append(json.dumps(record, separators=(",", ":")))
    if args.format == "jsonl":
        text = "".join(row + "\n" for row in rows)
    elif args.format == "array":
        text = "[" + ",\n".join(rows) + "]\n"
    else:
        text = '{"orders":[' + ",".join(rows) + "]}"
    data = text.encode()
    if args.gzip:
        data = gzip.compress(data, mtime=0)
    with open(args.out, "wb") as f:
        f.write(data)
    print(json.dumps({"records": args.count, "valid": args.count - rejected, "rejected": rejected}))


if __name__ == "__main__":
    main()
