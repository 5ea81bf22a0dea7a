#!/usr/bin/env bash
# start/stop, health, loopback-only binding, the fauxqs hook self-check,
# LOCALAWS_FAULTS, the fault seed, PUT/DELETE /faults and --path persistence. Runs a private
# stack on its own ports (the shared fixture's rules must not be replaced).
source "$(dirname "$0")/lib/common.sh"

# The shared fixture: healthy, and every port bound to 127.0.0.1 only.
health=$(admin GET /health)
expect_eq "fixture healthy, hook self-check ok" "true true" "$(jq -r '"\(.ok) \(.s3_notification_hook.ok)"' <<<"$health")"
fixture_pid=$(jq -r .pid <<<"$health")
listen=$(ss -Hltnp | grep "pid=$fixture_pid," | awk '{print $4}' | sort)
expect_eq "fixture listens on exactly three sockets" 3 "$(grep -c . <<<"$listen")"
if grep -qv '^127\.0\.0\.1:' <<<"$listen"; then fail "fixture listens beyond loopback: $listen"; fi
ok "fixture bound to 127.0.0.1 only"

# The hook self-check passes with the pinned fauxqs, and fails without the hook.
expect_eq "self-check passes" '{"ok":true,"problems":[]}' "$(node "$LOCALAWS_DIR/server.js" --self-check)"
if LOCALAWS_TEST_DISABLE_S3_HOOK=1 node "$LOCALAWS_DIR/server.js" --self-check >"$WORK_DIR/check"; then
  fail "self-check passed without the hook"
fi
expect_match "self-check names the missing events" "CompleteMultipartUpload" "$(cat "$WORK_DIR/check")"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
p1=$(free_port); p2=$(free_port); p3=$(free_port)
pid_file="$WORK_DIR/stack.pid"
log_file="$WORK_DIR/stack.log"
start_stack() { "$LOCALAWS_DIR/start" --s3-sqs-port "$p1" --dynamodb-port "$p2" --admin-port "$p3" --pid-file "$pid_file" --log-file "$log_file" "$@"; }
on_exit "'$LOCALAWS_DIR/stop' --pid-file '$pid_file'"
private_admin="http://127.0.0.1:$p3"

# A stack whose hook is broken refuses to start, and says why.
if LOCALAWS_TEST_DISABLE_S3_HOOK=1 start_stack 2>"$WORK_DIR/err" >/dev/null; then fail "start succeeded with a broken hook"; fi
expect_match "start failure shows the log tail" "hook does not work" "$(cat "$WORK_DIR/err")"
[ ! -f "$pid_file" ] || fail "failed start left a pid file"
ok "failed start leaves no pid file"

# Faults from the environment are active from the start.
ready=$(LOCALAWS_FAULTS='[{"service":"s3","operation":"ListBuckets","error":"http500"}]' start_stack)
expect_match "READY line" "^READY s3-sqs=http://127.0.0.1:$p1 dynamodb=http://127.0.0.1:$p2 admin=http://127.0.0.1:$p3 fault-seed=[0-9]+$" "$ready"
expect_eq "a fresh fault seed is shown in READY, /health and /faults" "${ready##*=} ${ready##*=}" \
  "$(curl -s "$private_admin/health" | jq -r .fault_seed) $(curl -s "$private_admin/faults" | jq -r .seed)"
pid=$(cat "$pid_file")
expect_eq "pid file names the server" "$pid" "$(curl -s "$private_admin/health" | jq -r .pid)"
expect_eq "LOCALAWS_FAULTS rule fires" 500 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/")"
expect_eq "and is counted" 1 "$(curl -s "$private_admin/faults" | jq -r '"\(.rules[0].fired)"')"

# PUT replaces the whole set, DELETE clears it.
curl -sS --fail -X PUT -d '[{"service":"s3","operation":"ListBuckets","error":"http503"},{"service":"sqs","error":"http500"}]' "$private_admin/faults" >/dev/null
expect_eq "PUT replaced the rules" "2 http503" "$(curl -s "$private_admin/faults" | jq -r '"\(.rules | length) \(.rules[0].error)"')"
expect_eq "replaced rule fires" 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/")"
curl -sS --fail -X DELETE "$private_admin/faults" >/dev/null
expect_eq "DELETE cleared the rules" 0 "$(curl -s "$private_admin/faults" | jq '.rules | length')"
expect_eq "fired_total survives the clear" 2 "$(curl -s "$private_admin/faults" | jq .fired_total)"
expect_eq "no rule, no fault" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/")"
expect_eq "bad JSON refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -d '{' "$private_admin/faults")"
expect_eq "unknown admin path is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$private_admin/nope")"

# A bad LOCALAWS_FAULTS makes start fail rather than run without the faults.
if LOCALAWS_FAULTS='[{"service":"s3"}]' start_stack >/dev/null 2>"$WORK_DIR/err"; then fail "start accepted a rule without effect"; fi
expect_match "reason for the bad rule" "exactly one effect" "$(cat "$WORK_DIR/err")"
kill -0 "$pid" 2>/dev/null && fail "the earlier stack was not stopped by the new start"
ok "start stopped the stack named in the pid file first"

# The stack's fault seed (--fault-seed, else LOCALAWS_FAULT_SEED) seeds the rules
# added without one: the same seed replays the same draws.
seeded_draws() { # start arguments... -> READY's seed, the rule's seed, 30 ListBuckets statuses
  local seed codes="" i
  seed=$(start_stack "$@" | sed 's/.*fault-seed=//')
  curl -sS --fail -X POST -d '{"service":"s3","operation":"ListBuckets","probability":0.5,"error":"http500"}' \
    "$private_admin/faults" >/dev/null
  for i in $(seq 30); do codes+=" $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/")"; done
  echo "$seed $(curl -s "$private_admin/faults/1" | jq -r .seed)$codes"
}
first=$(seeded_draws --fault-seed 4242)
expect_match "--fault-seed is the stack's seed; draws fail some calls" "^4242 [0-9]+ .*500.*200|^4242 [0-9]+ .*200.*500" "$first"
expect_eq "LOCALAWS_FAULT_SEED: same seed, same rule seed, same draws" "$first" \
  "$(LOCALAWS_FAULT_SEED=4242 seeded_draws)"
other=$(LOCALAWS_FAULT_SEED=4243 seeded_draws)
[ "${other#* }" != "${first#* }" ] || fail "stack seeds 4242 and 4243 drew the same: $first"
ok "another stack seed: other draws"
if start_stack --fault-seed 2x >/dev/null 2>"$WORK_DIR/err"; then fail "start accepted fault seed 2x"; fi
expect_match "a bad fault seed is refused" "fault seed must be an integer from 0 to 4294967295" "$(cat "$WORK_DIR/err")"

# --path keeps DynamoDB tables across a restart; the default is in memory.
data="$WORK_DIR/data"
start_stack --path "$data" >/dev/null
table=$(unique_name lifecycle)
AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$p2 create_table "$table"
"$AWS_CLI" --endpoint-url "http://127.0.0.1:$p2" dynamodb put-item --table-name "$table" --item '{"pk":{"S":"kept"}}'
start_stack --path "$data" >/dev/null
expect_eq "item kept on disk across a restart" kept \
  "$("$AWS_CLI" --endpoint-url "http://127.0.0.1:$p2" dynamodb get-item --table-name "$table" --key '{"pk":{"S":"kept"}}' | jq -r .Item.pk.S)"
start_stack >/dev/null
expect_eq "in-memory stack starts empty" 0 \
  "$("$AWS_CLI" --endpoint-url "http://127.0.0.1:$p2" dynamodb list-tables | jq '.TableNames | length')"

# stop: TERM ends it, the pid file goes, a second stop is a no-op.
pid=$(cat "$pid_file")
"$LOCALAWS_DIR/stop" --pid-file "$pid_file"
kill -0 "$pid" 2>/dev/null && fail "stop left pid $pid running"
[ ! -f "$pid_file" ] || fail "stop left the pid file"
ok "stop ended the stack and removed the pid file"
"$LOCALAWS_DIR/stop" --pid-file "$pid_file"
ok "stop without a running stack exits 0"
# A stale pid file naming an unrelated process leaves that process alone.
sleep 30 &
unrelated=$!
echo "$unrelated" >"$pid_file"
"$LOCALAWS_DIR/stop" --pid-file "$pid_file"
kill -0 "$unrelated" 2>/dev/null || fail "stop killed an unrelated process"
kill "$unrelated"
ok "stale pid file: unrelated process untouched"
