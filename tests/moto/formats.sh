#!/usr/bin/env bash
# The formats subset of the e2e suite against moto in its IAM mode: JSON
# Lines, array, wrapped, gzip, malformed lines, and keys with spaces and '/'
# (which moto's events encode as '+' and %2F; S3 and the local stack keep '/').
# Keys with '+', '%' or non-ASCII characters are not used here: moto 5.2 in
# IAM mode refuses every S3 request for such a key, from any client, as
# SignatureDoesNotMatch (tools/localaws/README.md); keys.sh runs them through
# moto without authentication. The worker and the backfill run as a
# least-privilege IAM user; any signature or access error fails the test.
# Faults are not tested here: moto cannot inject them (tests/e2e/faults.sh
# does, on the local stack).
source "$(dirname "$0")/lib/moto.sh"

DATA="$WORK_DIR/data"
python3 "$SALESFLOW_SOURCE_DIR/scripts/make-sample-data.py" "$DATA" >/dev/null

# Notified keys under incoming/; backfill/ is reached only by `process --recursive`.
sf_init --prefix incoming/ --visibility-timeout 30

# key in the bucket -> file in $DATA
declare -A FILES=(
  ["incoming/orders.jsonl"]="orders.jsonl"
  ["incoming/nested/deeper/orders-array.json"]="orders-array.json"
  ["incoming/orders-wrapped.json"]="orders-wrapped.json"
  ["incoming/orders.jsonl.gz"]="orders.jsonl.gz"
  ["incoming/malformed.jsonl"]="malformed.jsonl"
  ["incoming/in coming/march orders 1.json"]="march orders é+1.json"
)
for key in "${!FILES[@]}"; do
  file=${FILES[$key]}
  expect_counts "$key" "$(jq -c --arg f "$file" '.[$f]' "$DATA/expected.json")"
  mkdir -p "$(dirname "$WORK_DIR/upload/$key")"
  cp "$DATA/$file" "$WORK_DIR/upload/$key"
done
BACKFILL_KEY="backfill/a b/c d/orders e.json.gz"
mkdir -p "$(dirname "$WORK_DIR/upload-backfill/$BACKFILL_KEY")"
counts=$(python3 "$E2E_LIB/gen.py" "$WORK_DIR/upload-backfill/$BACKFILL_KEY" 700 --reject-every 9 \
  --prefix BF --format array --gzip) || fail "generating the backfill file"
expect_counts "$BACKFILL_KEY" "$counts"
aws_client upload "$BUCKET" "$WORK_DIR/upload-backfill" || fail "uploading the backfill files"
EXIT_STATUS=0
# The prefix without its '/': moto 5.2 in IAM mode refuses any request whose
# query holds a '/' (a listing prefix "backfill/"), from any client, as
# SignatureDoesNotMatch (tools/localaws/README.md).
sf_worker backfill process "s3://$BUCKET/backfill" --recursive || EXIT_STATUS=$?
expect_eq "process --recursive exit status (as the worker user)" 0 "$EXIT_STATUS"
expect_eq "backfill object completed" "$BACKFILL_KEY" \
  "$(log_objects "$WORK_DIR/backfill.log" | jq -r 'select(.status == "completed") | .key')"

aws_client upload "$BUCKET" "$WORK_DIR/upload" || fail "uploading the notified files"
EXIT_STATUS=0
sf_worker worker worker --exit-when-idle 4 --visibility-timeout 30 || EXIT_STATUS=$?
expect_eq "worker exit status (as the worker user)" 0 "$EXIT_STATUS"
expect_eq "formats detected, keys decoded from moto's events" \
  '{"incoming/in coming/march orders 1.json":"array","incoming/malformed.jsonl":"jsonl","incoming/nested/deeper/orders-array.json":"array","incoming/orders-wrapped.json":"wrapped","incoming/orders.jsonl":"jsonl","incoming/orders.jsonl.gz":"jsonl"}' \
  "$(log_objects "$WORK_DIR/worker.log" | jq -sSc 'map(select(.status == "completed") | {(.key): .format}) | add')"

expect_no_auth_errors "$WORK_DIR/init.out" "$WORK_DIR/backfill.log" "$WORK_DIR/worker.log"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log" --log "$WORK_DIR/backfill.log"

item=$(aws_client get-item "$TABLE" ORD-0200001) || fail "reading an item"
expect_eq "item from the key with spaces" "s3://$BUCKET/incoming/in coming/march orders 1.json" \
  "$(jq -r '._source.S' <<<"$item")"
expect_eq "its 30-digit number kept exactly" "12345678901234567890.1250000001" \
  "$(jq -r '.["order-info"].M["unit-price"].N' <<<"$item")"
expect_eq "the line that is not JSON, in the DLQ with its reason" \
  '{"raw":"this line is not JSON at all","codes":["malformed_json"],"index":50}' \
  "$(jq -c '.Body | fromjson | select(.source.key == "incoming/malformed.jsonl" and .record.line == 51) | {raw, codes: [.reasons[].code], index: .record.index}' "$WORK_DIR/dlq.jsonl")"
expect_eq "notification queue empty" 0 "$(aws_client depth "$NQUEUE")"
