#!/usr/bin/env bash
# Envelopes sent twice (an object redone after a crash or a lost lease) are
# recognised: `dlq stats`/`peek` collapse them by envelope id and count the
# repeats on a standard DLQ, and a FIFO DLQ (`init --fifo-dlq`, a name ending
# in .fifo) drops them itself, so it holds each envelope once.
source "$(dirname "$0")/lib/common.sh"

FIFO_DLQ="$DLQ.fifo"
# The same resources with the FIFO DLQ in place of the standard one.
SF_FIFO=("${SF_RESOURCES[@]/%$DLQ/$FIFO_DLQ}")
sf_fifo() { "$SALESFLOW_BINARY" "${SF_FIFO[@]}" "$@"; }

sf_init
on_exit "sqs DeleteQueue '{\"QueueUrl\":\"$(queue_url "$FIFO_DLQ")\"}'"
if sf init --fifo-dlq >"$WORK_DIR/init-nofifo.out" 2>&1; then
  fail "init --fifo-dlq accepted a DLQ name without .fifo"
fi
expect_match "init --fifo-dlq asks for a .fifo name" "give --dlq $DLQ.fifo" "$(cat "$WORK_DIR/init-nofifo.out")"
sf_fifo init --fifo-dlq >"$WORK_DIR/init-fifo.out" 2>&1 || {
  cat "$WORK_DIR/init-fifo.out" >&2
  fail "init --fifo-dlq"
}
expect_eq "the FIFO DLQ is a FIFO queue" "true" \
  "$(sqs GetQueueAttributes "{\"QueueUrl\":\"$(queue_url "$FIFO_DLQ")\",\"AttributeNames\":[\"All\"]}" | jq -r .Attributes.FifoQueue)"

generate "$WORK_DIR/std.jsonl" std.jsonl 40 --reject-every 4 --prefix STD   # 10 rejects
generate "$WORK_DIR/fifo.jsonl" fifo.jsonl 40 --reject-every 4 --prefix FIFO
upload "$WORK_DIR/std.jsonl" std.jsonl
std_etag=$(etag_of std.jsonl)

# Run KEY through `process` twice, forgetting the ledger entry in between, as
# a worker that crashed before marking the object done would redo it.
twice() { # RUNNER KEY ETAG
  local runner=$1 key=$2 etag=$3 round
  for round in 1 2; do
    "$runner" process "s3://$BUCKET/$key" >"$WORK_DIR/process-$key-$round.log" 2>&1 ||
      fail "process $key (round $round): $(tail -3 "$WORK_DIR/process-$key-$round.log")"
    ddb delete-item --table-name "$LEDGER" \
      --key "$(jq -cn --arg id "s3://$BUCKET/$key#e=$etag" '{object_id: {S: $id}}')" ||
      fail "forgetting the ledger entry of $key"
  done
}

twice sf std.jsonl "$std_etag"
expect_eq "the standard DLQ holds every envelope twice" 20 "$(queue_depth "$DLQ")"
sf dlq stats --json >"$WORK_DIR/stats.json" || fail "dlq stats"
expect_eq "dlq stats: 20 messages, 10 envelopes, 10 repeats" '[20,10,10]' \
  "$(jq -c '[.messages, .envelopes, .repeated_messages]' "$WORK_DIR/stats.json")"
expect_eq "dlq stats counts envelopes per reason" 10 "$(jq '.by_reason.missing' "$WORK_DIR/stats.json")"
sf dlq stats >"$WORK_DIR/stats.txt" || fail "dlq stats (text)"
expect_match "dlq stats says how many repeats it saw" "10 repeated messages" "$(cat "$WORK_DIR/stats.txt")"
sf dlq peek 30 >"$WORK_DIR/peek.txt" || fail "dlq peek"
expect_eq "dlq peek shows each envelope once" 10 "$(grep -c '(2 copies)' "$WORK_DIR/peek.txt")"
sf dlq peek 30 --json >"$WORK_DIR/peek.jsonl" || fail "dlq peek --json"
expect_eq "dlq peek --json prints each envelope once" 10 \
  "$(jq -r .id "$WORK_DIR/peek.jsonl" | sort -u | grep -c .)"
expect_eq "looking consumed nothing" 20 "$(queue_depth "$DLQ")"

upload "$WORK_DIR/fifo.jsonl" fifo.jsonl
twice sf_fifo fifo.jsonl "$(etag_of fifo.jsonl)"
expect_eq "the FIFO DLQ holds each envelope once" 10 "$(queue_depth "$FIFO_DLQ")"
sf_fifo dlq stats --json >"$WORK_DIR/fifo-stats.json" || fail "dlq stats on the FIFO DLQ"
expect_eq "dlq stats on the FIFO DLQ: 10 envelopes, no repeats" '[10,10,0]' \
  "$(jq -c '[.messages, .envelopes, .repeated_messages]' "$WORK_DIR/fifo-stats.json")"
expect_eq "the table holds every valid record once" 60 \
  "$(ddb scan --table-name "$TABLE" --select COUNT --output json | jq .Count)"
