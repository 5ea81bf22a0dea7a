#!/usr/bin/env bash
# Every input format through the real worker: JSON Lines, array, wrapped,
# gzip, malformed lines, duplicates, and keys with spaces, '+' and non-ASCII
# characters. Exact counts per file; an item keeps a 30-digit number exactly;
# DLQ envelopes carry the raw text exactly.
source "$(dirname "$0")/lib/common.sh"

DATA="$WORK_DIR/data"
python3 "$SALESFLOW_SOURCE_DIR/scripts/make-sample-data.py" "$DATA" >/dev/null
# Records, valid, rejected and duplicates known by construction.
cat >"$DATA/dups.jsonl" <<'EOF'
{"order-info":{"OrderId":"DUP-1","qty":"1"},"contact-info":{"email":"a@example.com"}}
{"order-info":{"OrderId":"DUP-2","qty":"2"},"contact-info":{"email":"b@example.com"}}
{"order-info":{"OrderId":"DUP-1","qty":"1"},"contact-info":{"email":"a@example.com"}}
{"order-info":{"OrderId":"DUP-3","qty":"3"}}
  {"order-info":{"OrderId":"DUP-3","qty":"3"}}
{"order-info":{"OrderId":"DUP-1","qty":"9"},"contact-info":{"email":"z@example.com"}}
EOF

sf_init

# key in the bucket -> file in $DATA
declare -A FILES=(
  ["orders.jsonl"]="orders.jsonl"
  ["nested/orders-array.json"]="orders-array.json"
  ["orders-wrapped.json"]="orders-wrapped.json"
  ["orders.jsonl.gz"]="orders.jsonl.gz"
  ["malformed.jsonl"]="malformed.jsonl"
  ["in coming/march orders é+1.json"]="march orders é+1.json"
  ["dups+copies.jsonl"]="dups.jsonl"
)
jq -n '{}' >"$WORK_DIR/expected.json"
for key in "${!FILES[@]}"; do
  file=${FILES[$key]}
  if [ "$file" = dups.jsonl ]; then
    # DUP-1 repeated once (a duplicate); DUP-3's repeat is rejected again (its own envelope).
    counts='{"records":6,"valid":2,"rejected":3}'
  else
    counts=$(jq -c --arg f "$file" '.[$f]' "$DATA/expected.json")
  fi
  jq --arg k "$key" --argjson c "$counts" '.[$k] = $c' "$WORK_DIR/expected.json" >"$WORK_DIR/e.tmp"
  mv "$WORK_DIR/e.tmp" "$WORK_DIR/expected.json"
  mkdir -p "$(dirname "$WORK_DIR/upload/$key")"
  cp "$DATA/$file" "$WORK_DIR/upload/$key"
done
upload_tree "$WORK_DIR/upload"

start_worker worker --exit-when-idle 3 --visibility-timeout 30
wait_exit "$WORKER_PID" 50 "the worker"
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "objects finished in the log" "${#FILES[@]}" \
  "$(log_objects "$WORK_DIR/worker.log" | jq -s 'map(select(.status == "completed")) | length')"
expect_eq "formats detected" \
  '{"dups+copies.jsonl":"jsonl","in coming/march orders é+1.json":"array","malformed.jsonl":"jsonl","nested/orders-array.json":"array","orders-wrapped.json":"wrapped","orders.jsonl":"jsonl","orders.jsonl.gz":"jsonl"}' \
  "$(log_objects "$WORK_DIR/worker.log" | jq -sSc 'map({(.key): .format}) | add')"
expect_eq "duplicates counted in dups+copies.jsonl" 1 \
  "$(log_objects "$WORK_DIR/worker.log" | jq -s 'map(select(.key == "dups+copies.jsonl"))[0].duplicates')"

check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"

# The first record of every sample file carries a 30-digit number.
item=$(ddb get-item --table-name "$TABLE" --key '{"OrderId":{"S":"ORD-0000001"}}' --output json)
expect_eq "30-digit unit-price kept exactly" "12345678901234567890.1250000001" \
  "$(jq -r '.Item["order-info"].M["unit-price"].N' <<<"$item")"
expect_eq "item source" "s3://$BUCKET/orders.jsonl" "$(jq -r '.Item._source.S' <<<"$item")"
expect_eq "item record index" 0 "$(jq -r '.Item._record_index.N' <<<"$item")"
item=$(ddb get-item --table-name "$TABLE" --key '{"OrderId":{"S":"ORD-0200001"}}' --output json)
expect_eq "item from the key with space, + and é" "s3://$BUCKET/in coming/march orders é+1.json" \
  "$(jq -r '.Item._source.S' <<<"$item")"
expect_eq "its 30-digit number" "12345678901234567890.1250000001" \
  "$(jq -r '.Item["order-info"].M["unit-price"].N' <<<"$item")"

# Every envelope of a JSON Lines file holds its line byte for byte (CR LF
# line ends are not part of a record).
python3 - "$WORK_DIR/dlq.jsonl" "$DATA" <<'EOF' || fail "DLQ raw text (see above)"
import json, sys
dlq, data = sys.argv[1], sys.argv[2]
files = {"orders.jsonl": "orders.jsonl", "malformed.jsonl": "malformed.jsonl",
         "dups+copies.jsonl": "dups.jsonl"}
lines = {k: open(f"{data}/{v}", "rb").read().decode().replace("\r\n", "\n").split("\n")
         for k, v in files.items()}
checked = 0
for text in open(dlq, encoding="utf-8"):
    env = json.loads(json.loads(text)["Body"])
    key = env["source"]["key"]
    if key not in lines:
        continue
    line = env["record"]["line"]
    want = lines[key][line - 1]
    if env["raw"] != want.strip():
        print(f"FAIL: {key} line {line}: raw {env['raw']!r} != {want!r}")
        sys.exit(1)
    checked += 1
print(f"ok: {checked} envelopes carry their line exactly")
sys.exit(0 if checked > 0 else 1)
EOF
ok "raw text of every JSON Lines envelope"
expect_eq "the line that is not JSON, in the DLQ with its reason" \
  '{"raw":"this line is not JSON at all","codes":["malformed_json"],"index":50}' \
  "$(jq -c '.Body | fromjson | select(.source.key == "malformed.jsonl" and .record.line == 51) | {raw, codes: [.reasons[].code], index: .record.index}' "$WORK_DIR/dlq.jsonl")"
expect_eq "the duplicate key rejected as duplicate_key" '["duplicate_key"]' \
  "$(jq -c '.Body | fromjson | select(.source.key == "dups+copies.jsonl" and .record.index == 5) | [.reasons[].code]' "$WORK_DIR/dlq.jsonl")"
expect_eq "notification queue empty" 0 "$(queue_depth "$NQUEUE")"
