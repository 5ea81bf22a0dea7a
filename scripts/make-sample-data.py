#!/usr/bin/env python3
"""Writes the demo's sample sales-data files into a directory.

Deterministic (fixed seed), so the demo's counts are the same on every run.
Each file mixes complete records with incomplete ones of known kinds; the
expected counts are written to expected.json beside the files.
"""
import gzip
import json
import random
import sys
from pathlib import Path

rng = random.Random(20261125)
ITEMS = ["widget", "gadget", "sprocket", "flange", "gizmo", "doohickey"]


def order(n, kind="complete"):
    rec = {
        "order-info": {
            "OrderId": f"ORD-{n:07d}",
            "item-id": f"IT-{rng.randint(1, 9999):04d}",
            "item-desc": rng.choice(ITEMS),
            "qty": str(rng.randint(1, 50)),
        },
        "contact-info": {"name": f"Customer {n}", "email": f"c{n}@example.com"},
    }
    if kind == "no_contact":
        del rec["contact-info"]
    elif kind == "no_order_id":
        del rec["order-info"]["OrderId"]
    elif kind == "empty_email":
        rec["contact-info"] = {"name": "Nobody", "email": "  "}
    elif kind == "phone_only":
        rec["contact-info"] = {"name": f"Customer {n}", "phone": "+1-555-0100"}
    elif kind == "exact_number":
        rec["order-info"]["unit-price"] = "@EXACT@"  # becomes a 30-digit JSON number
    return rec


def dump(rec):
    text = json.dumps(rec, separators=(",", ":"))
    return text.replace('"@EXACT@"', "12345678901234567890.1250000001")


def records(start, count):
    kinds = ["complete"] * 8 + ["no_contact", "no_order_id", "empty_email", "phone_only"]
    for i in range(count):
        n = start + i
        kind = "exact_number" if i == 0 else rng.choice(kinds)
        yield dump(order(n, kind)), kind


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    expected = {}

    def tally(name, kinds, malformed=0):
        bad = sum(1 for k in kinds if k in ("no_contact", "no_order_id", "empty_email"))
        expected[name] = {"records": len(kinds) + malformed, "valid": len(kinds) - bad,
                          "rejected": bad + malformed}

    rows = list(records(1, 200))
    (out / "orders.jsonl").write_text("".join(t + "\n" for t, _ in rows))
    tally("orders.jsonl", [k for _, k in rows])

    rows = list(records(1001, 150))
    (out / "orders-array.json").write_text("[\n" + ",\n".join(t for t, _ in rows) + "\n]\n")
    tally("orders-array.json", [k for _, k in rows])

    rows = list(records(2001, 150))
    (out / "orders-wrapped.json").write_text('{"orders":[' + ",".join(t for t, _ in rows) + "]}")
    tally("orders-wrapped.json", [k for _, k in rows])

    rows = list(records(3001, 300))
    (out / "orders.jsonl.gz").write_bytes(gzip.compress("".join(t + "\n" for t, _ in rows).encode(), mtime=0))
    tally("orders.jsonl.gz", [k for _, k in rows])

    rows = list(records(4001, 100))
    lines = [t for t, _ in rows]
    lines.insert(10, '{"order-info": {"OrderId": "ORD-broken-1"}, "contact-info": ')
    lines.insert(50, "this line is not JSON at all")
    lines.insert(80, '{"order-info":{"OrderId":"ORD-broken-2"},"contact-info":{"email":"x@example.com"}')
    (out / "malformed.jsonl").write_text("\r\n".join(lines) + "\r\n")
    tally("malformed.jsonl", [k for _, k in rows], malformed=3)

    rows = list(records(100001, 40000))
    (out / "large.jsonl").write_text("".join(t + "\n" for t, _ in rows))
    tally("large.jsonl", [k for _, k in rows])

    rows = list(records(200001, 50))
    (out / "march orders é+1.json").write_text("[" + ",".join(t for t, _ in rows) + "]")
    tally("march orders é+1.json", [k for _, k in rows])

    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sample-data")
