#!/usr/bin/env python3
"""The cost model of docs/deploy.md ("Cost model"): AWS requests, compute and
dollars per million records for salesflow (Lambda and ECS/Fargate) and for a
Step Functions + one-PutItem-per-record Lambda design, from parameters.

    python3 scripts/cost-model.py                 # the tables of docs/deploy.md
    python3 scripts/cost-model.py --cpu-us 6.5 --records-per-object 1000000 --reject-rate 0.01

Standard library only. Every figure it prints is a formula of the parameters
below (docs/deploy.md gives each formula and where in the code it comes from);
the prices are us-east-1 list prices with their sources in PRICES.
"""
import argparse
import math

M = 1_000_000  # the model is per million records

# us-east-1 list prices, read 2026-12-03 (sources and caveats: docs/deploy.md,
# "Prices"). "secondary" = the number is from a third-party page because the
# stored copy of AWS's own page does not carry it as text.
PRICES = {
    "lambda_request": (0.20 / M, "Lambda, per request (secondary)"),
    "lambda_gbs_x86": (0.0000166667, "Lambda x86, per GB-s, first tier (secondary)"),
    "lambda_gbs_arm": (0.0000133334, "Lambda arm64, per GB-s, first tier (secondary)"),
    "fargate_vcpu_h": (0.04048, "Fargate Linux/x86, per vCPU-hour (secondary)"),
    "fargate_gb_h": (0.004445, "Fargate Linux/x86, per GB-hour (secondary)"),
    "ddb_wru": (0.625 / M, "DynamoDB on-demand, per write request unit, after Nov 2024 (secondary)"),
    "ddb_rru": (0.125 / M, "DynamoDB on-demand, per read request unit, after Nov 2024 (secondary)"),
    "ddb_wcu_h": (0.00065, "DynamoDB provisioned, per WCU-hour (secondary)"),
    "sqs_request": (0.40 / M, "SQS standard, per request = per 64 KB chunk (secondary)"),
    "s3_get": (0.0004 / 1000, "S3 Standard GET/HEAD, per request (secondary)"),
    "sfn_transition": (0.025 / 1000, "Step Functions Standard, per state transition (AWS page)"),
    "sfn_express_request": (1.00 / M, "Step Functions Express, per request (AWS page)"),
    "sfn_express_gbs": (0.06 / 3600, "Step Functions Express, per GB-s, first 1,000 GB-hours (AWS page)"),
}


def price(name):
    return PRICES[name][0]


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    # The workload.
    a("--records-per-object", type=int, default=100_000, help="N, records in each S3 object")
    a("--reject-rate", type=float, default=0.001, help="r, share of records sent to the DLQ")
    a("--item-bytes", type=int, default=1000,
      help="DynamoDB size of one item (attribute names + values, salesflow's metadata included); "
           "WRU per item = ceil(bytes / 1024)")
    a("--envelope-bytes", type=int, default=2048, help="E, one DLQ envelope (record text + ~0.7 KB)")
    # The measured figure (bench/README.md) and what is assumed about AWS.
    a("--cpu-us", type=float, default=6.93,
      help="c, salesflow CPU per record, µs (bench/README.md, 'The worker against the benchmark "
           "sink', case (a); being worked on)")
    a("--reread-us", type=float, default=1.0,
      help="CPU per record of re-reading a durable prefix (split + validate, no write), µs")
    a("--latency-ms", type=float, default=10.0, help="L, BatchWriteItem round trip on AWS (assumed)")
    a("--requests", type=int, default=32, help="R, write requests in flight per object (--requests)")
    a("--checkpoint-every", type=int, default=5000, help="--checkpoint-every")
    a("--lease", type=int, default=120, help="--lease, s")
    a("--visibility", type=int, default=60, help="--visibility-timeout, s (worker)")
    # Lambda shape.
    a("--lambda-mb", type=int, default=1024, help="FunctionMemory (deploy/salesflow.yaml default)")
    a("--lambda-objects", type=int, default=1, help="k, objects per invocation (1: files arrive apart)")
    a("--lambda-timeout", type=int, default=900, help="FunctionTimeout, s")
    a("--deadline-margin", type=float, default=5.0, help="--deadline-margin, s")
    # Fargate shape.
    a("--fargate-vcpu", type=float, default=1.0, help="TaskCpu / 1024 (deploy/salesflow-ecs.yaml)")
    a("--fargate-gb", type=float, default=2.0, help="TaskMemory / 1024")
    a("--fargate-objects", type=int, default=4, help="--objects of the task")
    # The Step Functions + per-record Lambda design (all assumed, none measured here).
    a("--sfn-lambda-ms", type=float, default=20.0,
      help="billed duration of one per-record invocation (validate + one PutItem), ms")
    a("--sfn-lambda-mb", type=int, default=128, help="memory of the per-record function")
    a("--sfn-child-ms", type=float, default=60.0,
      help="duration of one Express child execution (the invocation plus Step Functions' own "
           "overhead), ms; billed rounded up to 100 ms")
    a("--sfn-parent-transitions", type=int, default=3, help="state transitions of the parent per file")
    return p.parse_args()


def throughput(args, vcpu, objects):
    """Records/s of one process: the least of its CPU, its writes in flight, nothing else."""
    usable = min(vcpu, objects + 1)  # one reading thread per object + the HTTP I/O thread
    cpu_rate = usable / (args.cpu_us * 1e-6)
    io_rate = objects * args.requests * 25 / (args.latency_ms / 1000)
    return min(cpu_rate, io_rate), cpu_rate, io_rate


def dlq_batches(rejects_per_object, envelope, max_batch_bytes=256 * 1024):
    """SendMessageBatch requests and billed 64 KB chunks per object (src/aws/sqs.cpp pack_batches)."""
    if rejects_per_object <= 0:
        return 0.0, 0.0
    per_batch = max(1, min(10, max_batch_bytes // envelope))
    full, rest = divmod(rejects_per_object, per_batch)
    chunks = full * math.ceil(per_batch * envelope / 65536)
    requests = full
    if rest > 0:
        requests += 1
        chunks += math.ceil(rest * envelope / 65536)
    return requests, chunks


def salesflow(args):
    n, r = args.records_per_object, args.reject_rate
    objects = M / n
    wru_item = math.ceil(args.item_bytes / 1024)
    valid_per_object = round(n * (1 - r))
    rejects_per_object = n - valid_per_object
    smb, chunks = dlq_batches(rejects_per_object, args.envelope_bytes)

    common = {
        "BatchWriteItem requests": objects * math.ceil(valid_per_object / 25),
        "table WRU": objects * valid_per_object * wru_item,
        "DLQ SendMessageBatch requests": objects * smb,
        "DLQ billed SQS requests (64 KB chunks)": objects * chunks,
        "S3 GetObject": objects,
        "ledger GetItem (1 RRU)": objects,
    }
    shapes = {}

    # Lambda: CPU share = memory / 1,769 MB.
    vcpu = args.lambda_mb / 1769
    k = args.lambda_objects
    rate, cpu_rate, io_rate = throughput(args, vcpu, k)
    per_object_s = n / (rate / k)
    usable_s = args.lambda_timeout - args.deadline_margin
    continuations = max(0, math.ceil(per_object_s / usable_s) - 1)
    reread_records = sum(i * (n / (continuations + 1)) for i in range(1, continuations + 1))
    reread_s = reread_records * args.reread_us * 1e-6 / min(vcpu, k + 1)
    duration_s = M / rate + objects * reread_s
    renewals = math.floor(per_object_s / max(1, args.lease // 3))
    lam = dict(common)
    lam.update({
        "Lambda invocations": objects / k + objects * continuations,
        "S3 GetObject": objects * (1 + continuations),
        "ledger UpdateItem (1 WRU)": objects * (2 + n // args.checkpoint_every + renewals
                                                + 3 * continuations),
        "ledger GetItem (1 RRU)": objects * (1 + continuations),
        "notification SQS requests": objects * (1 + 2 / k) + objects * continuations * 3,
    })
    lam["compute"] = {
        "rate": rate, "cpu_rate": cpu_rate, "io_rate": io_rate, "bound": "CPU" if cpu_rate <= io_rate else "I/O",
        "seconds": duration_s, "gb_s": args.lambda_mb / 1024 * duration_s,
        "per_object_s": per_object_s, "continuations": continuations,
    }
    shapes["salesflow on Lambda"] = lam

    # Fargate: the task's vCPU, kept busy by a backlog.
    rate, cpu_rate, io_rate = throughput(args, args.fargate_vcpu, args.fargate_objects)
    per_object_s = n / (rate / args.fargate_objects)
    wall = M / rate
    beats = math.floor(per_object_s / max(1, min(args.visibility, args.lease) // 3))
    far = dict(common)
    far.update({
        "ledger UpdateItem (1 WRU)": objects * (2 + n // args.checkpoint_every + beats),
        "notification SQS requests": objects * (3 + beats),
    })
    far["compute"] = {
        "rate": rate, "cpu_rate": cpu_rate, "io_rate": io_rate, "bound": "CPU" if cpu_rate <= io_rate else "I/O",
        "seconds": wall, "vcpu_s": args.fargate_vcpu * wall, "gb_s": args.fargate_gb * wall,
        "per_object_s": per_object_s,
    }
    shapes["salesflow on Fargate"] = far
    return shapes, wru_item


def step_functions(args, wru_item, child):
    n, r = args.records_per_object, args.reject_rate
    files = M / n
    valid = M * (1 - r)
    rejects = M - valid
    out = {
        "Lambda invocations": M,
        "PutItem requests": valid,
        "table WRU": valid * wru_item,
        "DLQ SendMessage requests": rejects,
        "DLQ billed SQS requests (64 KB chunks)": rejects * math.ceil(args.envelope_bytes / 65536),
        "S3 GetObject": files,
        "state transitions (Standard)": files * args.sfn_parent_transitions + (M if child == "standard" else 0),
        "Express requests": M if child == "express" else 0,
    }
    billed_child_s = math.ceil(args.sfn_child_ms / 100) * 0.1
    out["compute"] = {
        "lambda_gb_s": M * args.sfn_lambda_ms / 1000 * args.sfn_lambda_mb / 1024,
        "express_gb_s": M * billed_child_s * 64 / 1024 if child == "express" else 0.0,
    }
    return out


def dollars(shape, args, arch="x86"):
    c = shape["compute"]
    d = {}
    d["DynamoDB writes (table)"] = shape["table WRU"] * price("ddb_wru")
    d["ledger"] = (shape.get("ledger UpdateItem (1 WRU)", 0) * price("ddb_wru")
                   + shape.get("ledger GetItem (1 RRU)", 0) * price("ddb_rru"))
    d["SQS (DLQ + notifications)"] = (shape["DLQ billed SQS requests (64 KB chunks)"]
                                      + shape.get("notification SQS requests", 0)) * price("sqs_request")
    d["S3 GET"] = shape["S3 GetObject"] * price("s3_get")
    if "vcpu_s" in c:
        d["compute"] = (c["vcpu_s"] * price("fargate_vcpu_h") + c["gb_s"] * price("fargate_gb_h")) / 3600
    elif "lambda_gb_s" in c:
        d["compute"] = (c["lambda_gb_s"] * price("lambda_gbs_" + arch)
                        + shape["Lambda invocations"] * price("lambda_request"))
        d["Step Functions"] = (shape["state transitions (Standard)"] * price("sfn_transition")
                               + shape["Express requests"] * price("sfn_express_request")
                               + c["express_gb_s"] * price("sfn_express_gbs"))
    else:
        d["compute"] = (c["gb_s"] * price("lambda_gbs_" + arch)
                        + shape["Lambda invocations"] * price("lambda_request"))
    d["total"] = sum(d.values())
    return d


def fmt(value, digits=0):
    if isinstance(value, str):
        return value
    if value == 0:
        return "0"
    if abs(value) < 0.01 and digits > 2:
        return f"{value:.6f}"
    return f"{value:,.{digits}f}"


def table(title, columns, rows):
    print(f"\n{title}\n")
    print("| | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for label, cells in rows:
        print(f"| {label} | " + " | ".join(cells) + " |")


def main():
    args = parse()
    shapes, wru_item = salesflow(args)
    shapes["Step Functions Standard + per-record Lambda"] = step_functions(args, wru_item, "standard")
    shapes["Step Functions Express children + per-record Lambda"] = step_functions(args, wru_item, "express")
    names = list(shapes)
    short = ["salesflow Lambda", "salesflow Fargate", "SFN Standard + PutItem", "SFN Express + PutItem"]

    print(f"Parameters: N = {args.records_per_object:,} records per object, reject rate "
          f"{args.reject_rate}, items of {args.item_bytes} B ({wru_item} WRU), envelopes of "
          f"{args.envelope_bytes} B; c = {args.cpu_us} µs/record, L = {args.latency_ms} ms, "
          f"R = {args.requests}; Lambda {args.lambda_mb} MB x86, k = {args.lambda_objects}; "
          f"Fargate {args.fargate_vcpu} vCPU / {args.fargate_gb} GB, {args.fargate_objects} objects.")

    keys = ["BatchWriteItem requests", "PutItem requests", "table WRU",
            "ledger UpdateItem (1 WRU)", "ledger GetItem (1 RRU)",
            "DLQ SendMessageBatch requests", "DLQ SendMessage requests",
            "DLQ billed SQS requests (64 KB chunks)", "notification SQS requests",
            "S3 GetObject", "Lambda invocations", "state transitions (Standard)", "Express requests"]
    table("Requests per million records", short,
          [(k, [fmt(shapes[s].get(k, 0)) for s in names]) for k in keys])

    lam, far = shapes[names[0]]["compute"], shapes[names[1]]["compute"]
    sfs, sfe = shapes[names[2]]["compute"], shapes[names[3]]["compute"]
    table("Compute per million records", short, [
        ("records/s of one process (model)", [fmt(lam["rate"]), fmt(far["rate"]), "—", "—"]),
        ("bound by", [lam["bound"], far["bound"], "—", "—"]),
        ("seconds of one object", [fmt(lam["per_object_s"], 1), fmt(far["per_object_s"], 1), "—", "—"]),
        ("Lambda GB-s", [fmt(lam["gb_s"], 1), "—", fmt(sfs["lambda_gb_s"], 1), fmt(sfe["lambda_gb_s"], 1)]),
        ("Fargate vCPU-s (billed)", ["—", fmt(far["vcpu_s"], 1), "—", "—"]),
        ("Fargate GB-s (billed)", ["—", fmt(far["gb_s"], 1), "—", "—"]),
        ("Express GB-s (billed)", ["—", "—", "—", fmt(sfe["express_gb_s"], 1)]),
    ])

    costs = [dollars(shapes[s], args) for s in names]
    lines = ["compute", "Step Functions", "DynamoDB writes (table)", "ledger",
             "SQS (DLQ + notifications)", "S3 GET", "total"]
    table("USD per million records (us-east-1 list prices, x86)", short,
          [(k if k != "total" else "**total**",
            [("—" if k not in c else (f"**{c[k]:.4f}**" if k == "total" else f"{c[k]:.4f}"))
             for c in costs]) for k in lines])
    arm = dollars(shapes[names[0]], args, "arm")["compute"]
    print(f"\n(Lambda arm64 compute would be {arm:.4f}; salesflow's package is x86_64 only.)")


if __name__ == "__main__":
    main()
