#!/usr/bin/env python3
"""Writes the benchmarks' object to stdout: COUNT valid ~955-byte sales records,
JSON Lines (scripts/bench-e2e.sh, scripts/bench-lambda.sh)."""
import json
import sys

for n in range(int(sys.argv[1])):
    print(json.dumps({"order-info": {"OrderId": f"B-{n:08d}", "item-id": f"IT-{n % 9999:04d}",
                      "item-desc": "x" * 800, "qty": str(n % 50)},
                      "contact-info": {"name": f"Customer {n}", "email": f"c{n}@example.com"}},
                     separators=(",", ":")))
