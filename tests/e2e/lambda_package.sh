#!/usr/bin/env bash
# The Lambda package (salesflow-lambda.zip) runs with nothing of this machine
# visible. It is unzipped (Debian's unzip, not the tool that made it) into
# ROOT/var/task of an otherwise empty ROOT; every run chroots there in a
# private mount namespace holding only /proc, /dev and a fresh /tmp besides,
# with a Lambda-like environment (cwd /var/task, Lambda's LD_LIBRARY_PATH, no
# host PATH). Inside, `bootstrap` prints the version, validates a file and
# makes real AWS calls to the local stack (init, process), checked from outside
# with the aws CLI, and the local Lambda runs it as a function configured by
# SALESFLOW_* variables. Also checked: the zip's layout and modes, that the bundled
# libraries close over every DT_NEEDED, and the failure paths of the launcher
# and of the CA bundle. The mounts go with the namespace on every exit path.
# Not proven here: the real provided.al2023 kernel and its glibc 2.34.
set -euo pipefail

# Exit status 77: ctest reports the test as skipped (SKIP_RETURN_CODE).
if ! unshare --mount --propagation private -- mount -t tmpfs tmpfs /mnt >/dev/null 2>&1 ||
  ! chroot / true >/dev/null 2>&1; then
  echo "lambda_package: SKIPPED: needs root with mount namespaces (unshare --mount) and chroot" >&2
  exit 77
fi

source "$(dirname "$0")/lib/common.sh"

: "${SALESFLOW_LAMBDA_ZIP:?path of salesflow-lambda.zip (the ctest entry sets it)}"
ZIP=$SALESFLOW_LAMBDA_ZIP
[ -f "$ZIP" ] || fail "$ZIP missing: build the lambda-package target"
[ "$ZIP" -nt "$SALESFLOW_BINARY" ] || fail "$ZIP is older than $SALESFLOW_BINARY: rebuild lambda-package"

# ---------------------------------------------------------------- the zip

listing=$(zipinfo "$ZIP") || fail "zipinfo $ZIP"
mode_of() { awk -v f="$1" '$NF == f { print $1 }' <<<"$listing"; }
for f in bootstrap bin/salesflow lib/ld-linux-x86-64.so.2; do
  expect_eq "$f is in the zip, executable" "-rwxr-xr-x" "$(mode_of "$f")"
done
expect_eq "the CA bundle is in the zip" "-rw-r--r--" "$(mode_of etc/ca-certificates.crt)"
expect_eq "every entry under bootstrap, bin/, lib/ or etc/" "" \
  "$(zipinfo -1 "$ZIP" | grep -Ev '^(bootstrap|bin/salesflow|lib/[^/]+|etc/ca-certificates\.crt)$' || true)"

ROOT="$WORK_DIR/root"
TASK="$ROOT/var/task"
mkdir -p "$TASK" "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp" "$ROOT/data"
unzip -q "$ZIP" -d "$TASK" || fail "unzip $ZIP"
expect_eq "unzipped bootstrap is executable" "yes" "$([ -x "$TASK/bootstrap" ] && echo yes)"
expect_eq "bootstrap is static (no program interpreter)" "" \
  "$(readelf -l "$TASK/bootstrap" | grep -i 'program interpreter' || true)"
# Closure over DT_NEEDED read with readelf (independent of the ldd the packager used).
missing=()
for elf in "$TASK/bin/salesflow" "$TASK"/lib/*; do
  while read -r needed; do
    [ -f "$TASK/lib/$needed" ] || missing+=("$(basename "$elf") needs $needed")
  done < <(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
expect_eq "every DT_NEEDED of the binary and its libraries is in lib/" "" "${missing[*]}"
with_debug=()
for elf in "$TASK/bootstrap" "$TASK/bin/salesflow" "$TASK"/lib/*; do
  if readelf -S "$elf" | grep -q '\.debug_'; then with_debug+=("$(basename "$elf")"); fi
done
expect_eq "no debug sections in what the zip carries" "" "${with_debug[*]}"

# ---------------------------------------------------------------- the empty root

# What the Lambda runtime gives a function (no AWS settings yet).
LAMBDA_ENV=(LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
  PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin LANG=en_US.UTF-8 TZ=:UTC
  LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib)
# The local stack, as a function configured for it would see it.
AWS_ENV=("AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3" "AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS"
  "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" AWS_SESSION_TOKEN=local
  "AWS_REGION=$AWS_REGION" "AWS_DEFAULT_REGION=$AWS_REGION" AWS_EC2_METADATA_DISABLED=true)

# Runs /var/task/bootstrap (or PATH in the root) ARGS in root DIR (default
# ROOT) with only the environment VAR=VALUE... (after LAMBDA_ENV). --no-proc
# leaves /proc unmounted.
in_root() { # [--no-proc] [--root DIR] [--program PATH] [VAR=VALUE...] -- ARGS...
  local proc=1 root=$ROOT program=/var/task/bootstrap
  local -a vars=()
  while [ "$1" != "--" ]; do
    case $1 in
      --no-proc) proc=0 ;;
      --root) root=$2 && shift ;;
      --program) program=$2 && shift ;;
      *) vars+=("$1") ;;
    esac
    shift
  done
  shift
  # Every step execs the next: the timeout's signal reaches salesflow itself.
  timeout 120 unshare --mount --propagation private -- bash -c '
    set -e
    proc=$1 root=$2 program=$3 nvars=$4
    shift 4
    vars=("${@:1:nvars}")
    shift "$nvars"
    [ "$proc" = 0 ] || mount --bind /proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
    exec /usr/bin/env -i "${vars[@]}" /usr/bin/unshare --root="$root" --wd=/var/task \
      "$program" "$@"' in_root "$proc" "$root" "$program" $((${#LAMBDA_ENV[@]} + ${#vars[@]})) \
    "${LAMBDA_ENV[@]}" "${vars[@]}" "$@"
}
# Runs in_root ARGS; sets STATUS, OUT (stdout) and ERR (stderr).
run_in_root() {
  STATUS=0
  in_root "$@" >"$WORK_DIR/out" 2>"$WORK_DIR/err" || STATUS=$?
  OUT=$(cat "$WORK_DIR/out")
  ERR=$(cat "$WORK_DIR/err")
}
expect_status() { # what expected
  if [ "$STATUS" != "$2" ]; then
    echo "stdout: $OUT" >&2
    echo "stderr: $ERR" >&2
  fi
  expect_eq "$1: exit status" "$2" "$STATUS"
}

expect_eq "the root holds the package, the test data and the mount points only" \
  "data dev proc tmp var var/task" "$(cd "$ROOT" && echo * var/*)"
# The control: the plain binary cannot start there (no loader, no libraries).
cp "$SALESFLOW_BINARY" "$ROOT/data/salesflow"
run_in_root --program /data/salesflow -- --version
expect_status "the plain binary in the empty root" 127
expect_match "the plain binary finds no loader in the empty root" 'No such file or directory' "$ERR"
rm "$ROOT/data/salesflow"

run_in_root -- --version
expect_status "bootstrap --version" 0
expect_eq "bootstrap --version prints the binary's version" "$("$SALESFLOW_BINARY" --version)" "$OUT"

python3 "$E2E_LIB/gen.py" "$ROOT/data/clean.jsonl" 200 --reject-every 1000 >/dev/null
counts=$(python3 "$E2E_LIB/gen.py" "$ROOT/data/mixed.jsonl" 300 --reject-every 7)
run_in_root -- validate --json /data/clean.jsonl
expect_status "validate of a clean file" 0
expect_eq "validate of a clean file: records, valid, rejected" '[200,200,0]' \
  "$(jq -c '.files[0] | [.records, .valid, .rejected]' <<<"$OUT")"
run_in_root -- validate --json /data/mixed.jsonl
expect_status "validate of a file with rejects" 1
expect_eq "validate of a file with rejects: the generator's counts" \
  "$(jq -c '[.records, .valid, .rejected]' <<<"$counts")" \
  "$(jq -c '.files[0] | [.records, .valid, .rejected]' <<<"$OUT")"
run_in_root -- validate /data/no-such-file.jsonl
expect_status "validate of a missing file" 2

# What the launcher hands over, seen by print_args in place of the binary (in
# a copy of the root): no arguments become `lambda` (what the Lambda runtime
# runs), given ones pass verbatim; AWS_CA_BUNDLE defaults to the bundled file.
: "${PRINT_ARGS:?path of the print_args test program (the ctest entry sets it)}"
[ -x "$PRINT_ARGS" ] || fail "$PRINT_ARGS missing: build the print_args target"
PROBE="$WORK_DIR/probe"
mkdir -p "$PROBE/proc" "$PROBE/dev" "$PROBE/tmp"
cp -a "$ROOT/var" "$PROBE/"
cp "$PRINT_ARGS" "$PROBE/var/task/bin/salesflow"
run_in_root --root "$PROBE" --
expect_status "bootstrap without arguments" 0
expect_eq "bootstrap without arguments runs \`salesflow lambda\`" \
  "argv0=/var/task/bin/salesflow arg=[lambda] AWS_CA_BUNDLE=/var/task/etc/ca-certificates.crt" \
  "$(echo $OUT)"
run_in_root --root "$PROBE" AWS_CA_BUNDLE=/etc/own.pem -- validate "a b" "" --json
expect_eq "bootstrap ARGS passes them verbatim and keeps a set AWS_CA_BUNDLE" \
  "argv0=/var/task/bin/salesflow|arg=[validate]|arg=[a b]|arg=[]|arg=[--json]|AWS_CA_BUNDLE=/etc/own.pem" \
  "$(tr '\n' '|' <<<"$OUT" | sed 's/|$//')"
run_in_root --root "$PROBE" AWS_CA_BUNDLE= -- --version
expect_eq "an empty AWS_CA_BUNDLE counts as unset" "AWS_CA_BUNDLE=/var/task/etc/ca-certificates.crt" \
  "$(grep AWS_CA_BUNDLE <<<"$OUT")"

# ---------------------------------------------------------------- AWS from the empty root

sf() { in_root "${AWS_ENV[@]}" -- "${SF_RESOURCES[@]}" "$@"; }
sf_init
ok "salesflow init from the empty root"
expect_eq "the table exists (aws CLI)" ACTIVE \
  "$(ddb describe-table --table-name "$TABLE" --output json | jq -r .Table.TableStatus)"
generate "$WORK_DIR/orders.jsonl" "in/orders.jsonl" 500 --reject-every 6
upload "$WORK_DIR/orders.jsonl" "in/orders.jsonl"
sf process "s3://$BUCKET/in/orders.jsonl" >"$WORK_DIR/process.log" 2>&1 || {
  cat "$WORK_DIR/process.log" >&2
  fail "process from the empty root"
}
ok "salesflow process from the empty root"

# ---------------------------------------------------------------- the local Lambda

# The package as Lambda runs it: the local Lambda starts bootstrap (through
# enter-root.sh, in its own mount namespace chrooted into the root) with the
# Runtime API, the function's environment and nothing else; the settings come
# from SALESFLOW_* variables, as a deployed function's do. A direct S3 event.
source "$E2E_LIB/lambda.sh"
cat >"$WORK_DIR/enter-root.sh" <<'EOF'
set -e
root=$1
mount --bind /proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
exec /usr/bin/unshare --root="$root" --wd=/var/task /var/task/bootstrap
EOF
LAMBDA_COMMAND=(/usr/bin/unshare --mount --propagation private -- /bin/bash "$WORK_DIR/enter-root.sh" "$ROOT")
start_lambda package --timeout 60 --concurrency 1 --env "SALESFLOW_BUCKET=$BUCKET" \
  --env "SALESFLOW_TABLE=$TABLE" --env "SALESFLOW_LEDGER_TABLE=$LEDGER" \
  --env "SALESFLOW_NOTIFICATION_QUEUE=$NQUEUE" --env "SALESFLOW_POISON_QUEUE=$PQUEUE" \
  --env "SALESFLOW_DLQ=$DLQ"
generate "$WORK_DIR/orders-lambda.jsonl" "in/orders-lambda.jsonl" 700 --reject-every 5 --prefix PL
upload "$WORK_DIR/orders-lambda.jsonl" "in/orders-lambda.jsonl"
etag=$(s3 s3api head-object --bucket "$BUCKET" --key in/orders-lambda.jsonl --output json | jq -r '.ETag | gsub("\""; "")')
jq -n --arg b "$BUCKET" --arg e "$etag" --argjson size "$(stat -c %s "$WORK_DIR/orders-lambda.jsonl")" \
  '{Records: [{eventVersion: "2.1", eventSource: "aws:s3", eventName: "ObjectCreated:Put",
  s3: {bucket: {name: $b}, object: {key: "in/orders-lambda.jsonl", size: $size, eTag: $e}}}]}' \
  >"$WORK_DIR/package-event.json"
expect_eq "the packaged function: no function error" "" \
  "$(invoke package "$WORK_DIR/package-event.json" "$WORK_DIR/package-answer.json")"
expect_eq "the packaged function settled the object" '{"objects":1,"settled":1}' \
  "$(jq -c . "$WORK_DIR/package-answer.json")"
expect_match "its cold start is reported" 'Init Duration: [0-9.]+ ms' "$(grep -a REPORT "$WORK_DIR/package.log")"
stop_lambda package
expect_eq "the mounts of the function's root went with its namespace" 0 "$(grep -c "$WORK_DIR" /proc/self/mounts || true)"
# Both files (process's and the function's), their object lines, the table
# and the DLQ (aws CLI).
cut -f4- "$WORK_DIR/package.log" >"$WORK_DIR/package-lines.log"
check_accounting "$WORK_DIR/expected.json" --log "$WORK_DIR/process.log" --log "$WORK_DIR/package-lines.log"

# ---------------------------------------------------------------- failure paths

# The CA bundle: the launcher points AWS_CA_BUNDLE at the bundled file unless
# it is set; a missing file is an error at start, before any request.
run_in_root "${AWS_ENV[@]}" AWS_CA_BUNDLE=/etc/no-such-ca.crt -- "${SF_RESOURCES[@]}" dlq stats
expect_status "AWS_CA_BUNDLE naming a missing file" 2
expect_match "the error names the file and the variable" \
  "CA bundle '/etc/no-such-ca.crt' \(AWS_CA_BUNDLE\): cannot read it: No such file or directory" "$ERR"
BARE="$WORK_DIR/bare"
mkdir -p "$BARE/proc" "$BARE/dev" "$BARE/tmp"
cp -a "$ROOT/var" "$BARE/"
rm "$BARE/var/task/etc/ca-certificates.crt"
run_in_root --root "$BARE" "${AWS_ENV[@]}" -- "${SF_RESOURCES[@]}" dlq stats
expect_status "the bundled CA file removed" 2
expect_match "the error names the bundled file" \
  "CA bundle '/var/task/etc/ca-certificates.crt' \(AWS_CA_BUNDLE\): cannot read it" "$ERR"

# TLS: SQS behind tls_relay.py, its certificate from a CA made here. From the
# empty root, the bundled libcurl and OpenSSL verify it with AWS_CA_BUNDLE
# naming that CA, and refuse it with the bundled public CAs (the default).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=salesflow-test-ca \
  -keyout "$WORK_DIR/ca.key" -out "$ROOT/data/test-ca.pem" 2>/dev/null || fail "making a CA"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK_DIR/server.key" \
  -out "$WORK_DIR/server.csr" 2>/dev/null || fail "making a server key"
openssl x509 -req -days 2 -in "$WORK_DIR/server.csr" -CA "$ROOT/data/test-ca.pem" \
  -CAkey "$WORK_DIR/ca.key" -CAcreateserial -out "$WORK_DIR/server.pem" \
  -extfile <(echo 'subjectAltName=IP:127.0.0.1') 2>/dev/null || fail "signing the server certificate"
python3 "$E2E_LIB/tls_relay.py" --cert "$WORK_DIR/server.pem" --key "$WORK_DIR/server.key" \
  --target "${AWS_ENDPOINT_URL_SQS#http://}" >"$WORK_DIR/relay.port" 2>"$WORK_DIR/relay.log" &
_started_pids+=("$!")
wait_for "the TLS relay's port" 10 test -s "$WORK_DIR/relay.port"
TLS_ENV=("AWS_ENDPOINT_URL_SQS=https://127.0.0.1:$(cat "$WORK_DIR/relay.port")")
run_in_root "${AWS_ENV[@]}" "${TLS_ENV[@]}" AWS_CA_BUNDLE=/data/test-ca.pem -- \
  "${SF_RESOURCES[@]}" dlq stats --json
expect_status "dlq stats over TLS, AWS_CA_BUNDLE naming the CA" 0
expect_eq "dlq stats over TLS answers with its report" true "$(jq 'has("messages")' <<<"$OUT")"
expect_match "the relay saw a TLS handshake" 'handshake done' "$(cat "$WORK_DIR/relay.log")"
run_in_root "${AWS_ENV[@]}" "${TLS_ENV[@]}" -- "${SF_RESOURCES[@]}" dlq stats --json
expect_status "dlq stats over TLS with the bundled public CAs" 2
expect_match "the error is the certificate's" 'TlsError: SSL certificate problem: unable to get local issuer certificate' "$ERR"

# The launcher: no /proc (it finds its directory there), no loader.
run_in_root --no-proc -- --version
expect_status "bootstrap without /proc" 127
expect_match "bootstrap without /proc says why" \
  '^bootstrap: cannot find its own directory \(/proc/self/exe\): ' "$ERR"
rm "$BARE/var/task/lib/ld-linux-x86-64.so.2"
run_in_root --root "$BARE" -- --version
expect_status "bootstrap without the bundled loader" 127
expect_eq "bootstrap without the bundled loader says why" \
  "bootstrap: cannot run /var/task/lib/ld-linux-x86-64.so.2: No such file or directory" "$ERR"

expect_eq "no mount of the test roots shows outside their namespaces" 0 "$(grep -c "$WORK_DIR" /proc/self/mounts || true)"
