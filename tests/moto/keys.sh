#!/usr/bin/env bash
# Keys with '+', '%', '=', a literal "%2F" and non-ASCII characters through
# moto's S3 events (encoded with Python's quote_plus: '+' as %2B, '%' as %25,
# '/' as %2F, é as %C3%A9), decoded exactly once by the worker. moto runs
# without authentication here: in its IAM mode it refuses every S3 request for
# such a key, from any client (tools/localaws/README.md); formats.sh runs the
# rest of the subset with IAM enforced.
MOTO_IAM=0
source "$(dirname "$0")/lib/moto.sh"

sf_init --visibility-timeout 30
mkdir -p "$WORK_DIR/upload"
i=0
for key in "march orders é+1.json" "sale 100%+%2F.jsonl" "dir+x/a=b&c ü.json.gz"; do
  i=$((i + 1))
  format=$([ "${key%%.json*}" != "$key" ] && [ "${key%.jsonl}" = "$key" ] && echo array || echo jsonl)
  mkdir -p "$(dirname "$WORK_DIR/upload/$key")"
  counts=$(python3 "$E2E_LIB/gen.py" "$WORK_DIR/upload/$key" 200 --reject-every 6 --prefix "K$i" \
    --format "$format" $([ "${key%.gz}" != "$key" ] && echo --gzip)) || fail "generating $key"
  expect_counts "$key" "$counts"
done
aws_client upload "$BUCKET" "$WORK_DIR/upload" || fail "uploading"
# What the worker has to decode: moto's own encoding of each key.
expect_eq "keys as moto's events carry them" \
  '["dir%2Bx%2Fa%3Db%26c+%C3%BC.json.gz","march+orders+%C3%A9%2B1.json","sale+100%25%2B%252F.jsonl"]' \
  "$(aws_client event-keys "$NQUEUE")"

EXIT_STATUS=0
sf_worker worker worker --exit-when-idle 4 --visibility-timeout 30 || EXIT_STATUS=$?
expect_eq "worker exit status" 0 "$EXIT_STATUS"
expect_eq "every key decoded from moto's events and completed" \
  '["dir+x/a=b&c ü.json.gz","march orders é+1.json","sale 100%+%2F.jsonl"]' \
  "$(log_objects "$WORK_DIR/worker.log" | jq -sc 'map(select(.status == "completed") | .key) | sort')"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/worker.log"
expect_eq "notification queue empty" 0 "$(aws_client depth "$NQUEUE")"
