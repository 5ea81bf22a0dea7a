#!/usr/bin/env bash
# `salesflow console` in a real browser (Debian's chromium, headless, driven
# by tests/browser/console.mjs with puppeteer-core): after an ingestion with
# rejects, filter by reason, fix a record missing its contact e-mail until
# the verdict turns valid, replay it; a still-invalid fix keeps its message.
# Checked from outside with /usr/bin/aws: the item is in the table, the DLQ
# count dropped by exactly one. Also the console's guards (Host, token,
# loopback only) with curl. Screenshots: <build>/test-output/console/*.png.
source "$(dirname "$0")/lib/common.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
BROWSER_DIR="$SALESFLOW_SOURCE_DIR/tests/browser"
[ -x "$CHROMIUM" ] || fail "no $CHROMIUM: install Debian's chromium (scripts/bootstrap.sh does)"
[ -d "$BROWSER_DIR/node_modules/puppeteer-core" ] ||
  fail "no puppeteer-core in $BROWSER_DIR/node_modules: run scripts/bootstrap.sh (npm ci there)"
OUT_DIR="$(dirname "$SALESFLOW_BINARY")/test-output/console"
rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"

sf_init
# 12 records: 3 have a contact without e-mail or phone, 1 no OrderId.
python3 - "$WORK_DIR/orders.jsonl" <<'PY'
import json, sys
rows = []
for i in range(12):
    r = {"order-info": {"OrderId": f"WEB-{i:03d}", "qty": 12345678901234567890123 if i == 4 else i},
         "contact-info": {"name": f"Customer {i}", "email": f"c{i}@example.com"}}
    if i in (1, 4, 7):
        del r["contact-info"]["email"]
    if i == 10:
        r["order-info"]["OrderId"] = ""
    rows.append(json.dumps(r))
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
upload "$WORK_DIR/orders.jsonl" web/orders.jsonl
sf process "s3://$BUCKET/web/orders.jsonl" >"$WORK_DIR/process.log" 2>&1 || fail "process"
expect_eq "four rejects in the DLQ" 4 "$(queue_depth "$DLQ")"

sf dlq export -o "$WORK_DIR/export.jsonl" 2>/dev/null || fail "export"
id_of() { jq -r --arg o "$1" 'select(.value["order-info"].OrderId == $o) | .id' "$WORK_DIR/export.jsonl"; }
fix_id=$(id_of WEB-004)
invalid_id=$(id_of WEB-007)
fixed='{"order-info": {"OrderId": "WEB-004", "qty": 12345678901234567890123}, "contact-info": {"name": "Customer 4", "email": "fixed@example.com"}}'
invalid='{"order-info": {"OrderId": "WEB-007", "qty": 7}, "contact-info": {"name": "Customer 7", "email": "  "}}'

"$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" console --addr 127.0.0.1:0 --audit "$WORK_DIR/audit.jsonl" \
  >"$WORK_DIR/console.out" 2>"$WORK_DIR/console.log" &
console_pid=$!
_started_pids+=("$console_pid")
wait_for "the console to listen" 20 grep -q 'serving http://' "$WORK_DIR/console.out"
url=$(grep -o 'http://[^/]*/' "$WORK_DIR/console.out")
hostport=${url#http://}
hostport=${hostport%/}

# ---- guards, with curl
expect_eq "the page is served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url")"
expect_match "with a strict content security policy" "script-src 'self'" \
  "$(curl -s -D - -o /dev/null "$url" | tr -d '\r' | grep -i '^content-security-policy')"
expect_eq "another Host is refused (DNS rebinding)" 421 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: attacker.example:80' "$url")"
expect_eq "a POST without the token is refused" 403 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "{\"id\":\"$invalid_id\",\"reason\":\"x\"}" "${url}api/discard")"
token=$(curl -s "${url}api/session" | jq -r .token)
expect_match "the session names no credentials" '^[0-9a-f]{32}$' "$token"
expect_eq "the session holds no secret key" "" "$(curl -s "${url}api/session" | grep -o 'test' || true)"
expect_eq "a POST with a form body is refused" 415 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Salesflow-Token: $token" \
    -d "id=$invalid_id" "${url}api/discard")"
status=0
"$SALESFLOW_BINARY" "${SF_RESOURCES[@]}" console --addr 0.0.0.0:0 >"$WORK_DIR/remote.out" 2>&1 || status=$?
expect_eq "a non-loopback address needs --allow-remote" 2 "$status"
expect_match "and says so" "allow-remote" "$(cat "$WORK_DIR/remote.out")"

# ---- the browser
plan=$(jq -cn --arg fix "$fix_id" --arg fixed "$fixed" --arg bad "$invalid_id" --arg invalid "$invalid" \
  '{fix_id: $fix, fixed_record: $fixed, invalid_id: $bad, invalid_record: $invalid, reason: "missing"}')
(cd "$BROWSER_DIR" && CHROMIUM=$CHROMIUM timeout 180 node console.mjs "$url" "$OUT_DIR" "$plan") \
  >"$WORK_DIR/browser.json" 2>"$WORK_DIR/browser.err" || {
  cat "$WORK_DIR/browser.err" >&2
  fail "the browser run"
}
seen=$(tail -1 "$WORK_DIR/browser.json")
expect_eq "the page counts four rejects" 4 "$(jq .count <<<"$seen")"
expect_eq "the chart has both reasons" '["empty","missing"]' "$(jq -c '.reasons_charted | sort' <<<"$seen")"
expect_eq "filtering by reason shows the three missing contacts" 3 "$(jq .rows_for_reason <<<"$seen")"
expect_eq "the contact without e-mail is marked at its path" '["/contact-info"]' "$(jq -c .marked <<<"$seen")"
expect_match "with the reason" "missing: needs at least one of /contact-info/email" "$(jq -r .marked_title <<<"$seen")"
expect_eq "replay is disabled while invalid" true "$(jq .replay_disabled_before <<<"$seen")"
expect_match "the verdict turns valid as the fix is typed" "^valid" "$(jq -r .verdict_after <<<"$seen")"
expect_match "the item preview keeps the long number exactly" '12345678901234567890123' "$(jq -r .item_preview <<<"$seen")"
expect_match "the replay says it is written and deleted" "replayed: written to $TABLE, DLQ message deleted" \
  "$(jq -r .outcome <<<"$seen")"
expect_eq "the page counts one fewer" 3 "$(jq .count_after <<<"$seen")"
expect_match "a still-invalid fix shows its reason" "whitespace" "$(jq -r .invalid_verdict <<<"$seen")"
expect_eq "and cannot be replayed from the page" true "$(jq .invalid_replay_disabled <<<"$seen")"
expect_eq "nor through the API" still_invalid "$(jq -r .invalid_replay <<<"$seen")"
expect_eq "without the token the page's own origin is refused too" 403 "$(jq .without_token <<<"$seen")"
expect_eq "no script error, no failed request" '[]' "$(jq -c .problems <<<"$seen")"
for name in 1-overview 2-filtered 3-envelope 4-valid 5-replayed 6-still-invalid; do
  expect_match "screenshot $name is a PNG" 'PNG image data, 1400 x' "$(file "$OUT_DIR/$name.png")"
done

# ---- from outside
item=$(ddb get-item --table-name "$TABLE" --consistent-read --output json \
  --key '{"OrderId":{"S":"WEB-004"}}' | jq -sc '.[0].Item // {}')
expect_eq "the replayed item is in the table" "fixed@example.com" "$(jq -r '.["contact-info"].M.email.S' <<<"$item")"
expect_eq "with its number exact" "12345678901234567890123" "$(jq -r '.["order-info"].M.qty.N' <<<"$item")"
expect_match "and _corrected_at" '^[0-9]{4}-' "$(jq -r '._corrected_at.S' <<<"$item")"
expect_eq "the DLQ count dropped by one" 3 "$(queue_depth "$DLQ")"
# Discard through the API, as the page's button does: audited, then deleted.
discard_id=$(id_of WEB-001)
answer=$(curl -s -X POST -H 'Content-Type: application/json' -H "X-Salesflow-Token: $token" \
  -d "{\"id\":\"$discard_id\",\"reason\":\"customer withdrew\"}" "${url}api/discard")
expect_eq "the console discards" discarded "$(jq -r .status <<<"$answer")"
expect_eq "into its audit file, with the reason" "$discard_id customer withdrew" \
  "$(jq -r '"\(.envelope.id) \(.reason)"' "$WORK_DIR/audit.jsonl")"
expect_eq "the DLQ count dropped again" 2 "$(queue_depth "$DLQ")"
expect_eq "a discard without a reason is refused" 400 \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "X-Salesflow-Token: $token" -d "{\"id\":\"$invalid_id\"}" "${url}api/discard")"
drain_queue "$DLQ" "$WORK_DIR/dlq.jsonl" 50
expect_eq "the still-invalid record keeps its message" 1 \
  "$(jq -r '.Body | fromjson | .id' "$WORK_DIR/dlq.jsonl" | grep -c "$invalid_id")"
expect_match "every request is logged" '"msg":"console request".*"path":"/api/replay"' "$(cat "$WORK_DIR/console.log")"
kill -TERM "$console_pid"
wait_exit "$console_pid" 20 "the console after SIGTERM"
expect_eq "the console stops cleanly on SIGTERM" 0 "$EXIT_STATUS"
